#!/usr/bin/python3
# Validates Kubernetes objects (YAML documents on stdin) against the API's
# types as Debian's python3-kubernetes describes them (openapi_types and
# attribute_map of each model): every field must exist in its object's type
# (unknown fields are errors, unlike a server that prunes them), and every
# value must have the field's type. Offline: nothing is fetched.
# Prints one line per problem and exits 1 when there is any.
import re
import sys

import yaml
import kubernetes.client as k8s

KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Pod"): "V1Pod",
    ("v1", "Service"): "V1Service",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
    ("apps/v1", "Deployment"): "V1Deployment",
}
# Fields newer than the API Debian's python3-kubernetes describes (1.22), with
# the release that added them; typed by a model of the same shape.
NEWER = {
    "V1SecurityContext": {"appArmorProfile": "V1SeccompProfile"},  # 1.30: {type, localhostProfile}
    "V1PodSecurityContext": {"appArmorProfile": "V1SeccompProfile"},  # 1.30
}
problems = []


def check(value, typ, where):
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            problems.append(f"{where}: a list expected, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            check(v, m.group(1), f"{where}[{i}]")
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            problems.append(f"{where}: a map expected, got {type(value).__name__}")
            return
        for k, v in value.items():
            check(v, m.group(1), f"{where}.{k}")
        return
    if typ == "str":
        ok = isinstance(value, str)
    elif typ == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif typ == "bool":
        ok = isinstance(value, bool)
    elif typ in ("float",):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif typ in ("object", "datetime"):
        ok = True  # IntOrString, Quantity, free-form and timestamps
    else:
        model = getattr(k8s, typ, None)
        if model is None:
            problems.append(f"{where}: unknown type {typ}")
            return
        if not isinstance(value, dict):
            problems.append(f"{where}: an object ({typ}) expected, got {type(value).__name__}")
            return
        fields = {json: py for py, json in model.attribute_map.items()}
        newer = NEWER.get(typ, {})
        for k, v in value.items():
            if k in newer and k not in fields:
                check(v, newer[k], f"{where}.{k}")
                continue
            if k not in fields:
                problems.append(f"{where}.{k}: no such field in {typ}")
                continue
            check(v, model.openapi_types[fields[k]], f"{where}.{k}")
        return
    if not ok:
        problems.append(f"{where}: {typ} expected, got {type(value).__name__} ({value!r})")


n = 0
for doc in yaml.safe_load_all(sys.stdin):
    if not doc:
        continue
    n += 1
    key = (doc.get("apiVersion"), doc.get("kind"))
    typ = KINDS.get(key)
    name = f"{key[1]}/{doc.get('metadata', {}).get('name')}"
    if typ is None:
        problems.append(f"{name}: no schema here for {key}")
        continue
    check(doc, typ, name)
for p in problems:
    print(p)
print(f"{n} objects, {len(problems)} problems", file=sys.stderr)
sys.exit(1 if problems or n == 0 else 0)
