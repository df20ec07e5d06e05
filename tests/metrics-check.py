#!/usr/bin/env python3
"""Checks Prometheus text exposition (format 0.0.4) strictly enough for the tests:
every sample belongs to a family announced by HELP and TYPE before it, names and
labels are well formed, values are numbers, counters end in _total, a histogram's
buckets are cumulative and end with +Inf equal to _count. Prints the samples as
JSON ({"name{labels}": value}) on success; exits 1 with the problem otherwise."""
import json
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)$" % (NAME, LABEL, LABEL))
text = sys.stdin.read()
problems, samples, types, helps = [], {}, {}, set()
if not text.endswith("\n"):
    problems.append("no final newline")
for n, line in enumerate(text.splitlines(), 1):
    if line.startswith("# HELP "):
        name = line.split(" ")[2]
        if name in helps:
            problems.append("line %d: second HELP for %s" % (n, name))
        helps.add(name)
        continue
    if line.startswith("# TYPE "):
        parts = line.split(" ")
        if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
            problems.append("line %d: bad TYPE" % n)
            continue
        if parts[2] in types:
            problems.append("line %d: second TYPE for %s" % (n, parts[2]))
        types[parts[2]] = parts[3]
        if parts[3] == "counter" and not parts[2].endswith("_total"):
            problems.append("line %d: counter %s without _total" % (n, parts[2]))
        continue
    if line.startswith("#") or not line:
        continue
    m = SAMPLE.match(line)
    if not m:
        problems.append("line %d: not a sample: %r" % (n, line))
        continue
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    family = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in types and not (family in types and types[family] == "histogram"):
        problems.append("line %d: %s has no TYPE before it" % (n, name))
    try:
        v = float(value)
    except ValueError:
        problems.append("line %d: value %r" % (n, value))
        continue
    key = name + labels
    if key in samples:
        problems.append("line %d: %s twice" % (n, key))
    samples[key] = v
for fam, t in types.items():
    if t != "histogram":
        continue
    buckets = [(k, v) for k, v in samples.items() if k.startswith(fam + "_bucket{")]
    les = [k.split('le="')[1].rstrip('"}') for k, _ in buckets]
    if not les or les[-1] != "+Inf":
        problems.append("%s: no +Inf bucket last" % fam)
    counts = [v for _, v in buckets]
    if counts != sorted(counts):
        problems.append("%s: buckets not cumulative" % fam)
    if counts and samples.get(fam + "_count") != counts[-1]:
        problems.append("%s: +Inf bucket != _count" % fam)
    if fam + "_sum" not in samples:
        problems.append("%s: no _sum" % fam)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(json.dumps(samples))
