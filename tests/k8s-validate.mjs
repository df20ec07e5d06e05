// Validates Kubernetes objects (YAML documents on stdin) against the API's
// schemas, offline: the npm package kubernetes-models (JSON schemas of the
// API, checked with ajv). Prints one line per object; exits 1 if any is invalid.
import fs from "fs";
import YAML from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";

const groups = { v1: core, "apps/v1": apps };
const docs = YAML.parseAllDocuments(fs.readFileSync(0, "utf8"))
  .map((d) => d.toJS())
  .filter((d) => d);
let bad = 0;
for (const d of docs) {
  const Model = groups[d.apiVersion] && groups[d.apiVersion][d.kind];
  if (!Model) {
    console.log(`unknown kind ${d.apiVersion}/${d.kind}`);
    bad++;
    continue;
  }
  try {
    new Model(d).validate();
    console.log(`valid ${d.kind}/${d.metadata.name}`);
  } catch (e) {
    console.log(`invalid ${d.kind}/${d.metadata && d.metadata.name}: ${e.message}`);
    bad++;
  }
}
process.exit(docs.length && !bad ? 0 : 1);
