#!/bin/bash
# `coredump-proxy check-config FILE`: exit 0 for a valid config; exit 1 and one
# line per problem, each naming the file, the position and the key path. A
# daemon given a bad config does not start and leaves core_pattern alone.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_tmpdir
d=$T_TMP

cat >"$d/good.json" <<'JSON'
{
  "version": 1,
  "listen": { "path": "/run/coredump-proxy/kernel.sock", "protocol": "request" },
  "events": "/var/log/coredump-proxy/events.jsonl",
  "store": { "directory": "/var/lib/coredump-proxy", "max_use": "10G", "keep_free": "15%" },
  "limits": { "collector_timeout": "2s", "dump_timeout": "5m", "max_concurrent": 64,
              "per_container": { "dumps": 10, "interval": "1m" } },
  "routes": [
    { "name": "pods", "match": { "runtime": ["containerd", "cri-o", "cri"], "uid": [0, 1000] },
      "action": "forward", "address": "@coredump-collector", "fallback": "store",
      "trust": "pod", "pass_pidfd": true, "expose_host": false },
    { "name": "noisy", "match": { "comm": "noisy-*", "exe": "/usr/bin/*", "cgroup": "/system.slice/*" },
      "action": "reject" },
    { "name": "host", "match": {}, "action": "store" }
  ]
}
JSON
out=$("$T_PROXY" check-config "$d/good.json")
t_is "$?" 0 "a valid config with every key: exit 0"
t_like "$out" "ok \(3 routes\)" "a valid config: says ok"

cat >"$d/bad.json" <<'JSON'
{
  "listen": { "path": "/run/../x.sock", "protocol": "requst" },
  "store": { "max_use": "10X" },
  "limits": { "dump_timeout": "5 minutes" },
  "routes": [
    { "name": "a", "match": { "runtime": ["dockr"], "contaner": true }, "action": "forward", "adress": "@x" },
    { "name": "a", "action": "store", "fallback": "reject" }
  ],
  "extra": 1
}
JSON
out=$("$T_PROXY" check-config "$d/bad.json")
t_is "$?" 1 "a bad config: exit 1"
t_is "$(printf '%s\n' "$out" | wc -l)" 10 "one line per problem, all of them"
expect() { t_ok "reports $2" grep -qF -- "$d/bad.json:$1: $2" <<<"$out"; }
expect 2:23 'listen.path: '
expect 2:53 'listen.protocol: unknown protocol "requst"'
expect 3:25 'store.max_use: invalid size "10X"'
expect 4:31 'limits.dump_timeout: invalid duration "5 minutes"'
expect 6:43 'routes[0].match.runtime[0]: unknown runtime "dockr"'
expect 6:53 'routes[0].match.contaner: unknown key "contaner"'
expect 6:94 'routes[0].adress: unknown key "adress"'
expect 7:15 'routes[1].name: duplicate route name "a"'
expect 7:39 'routes[1].fallback: "fallback" is only valid with "action": "forward"'
expect 9:3 'extra: unknown key "extra"'

printf '{"routes": [ {"name": "x", "action": "store",}]}' >"$d/syntax.json"
out=$("$T_PROXY" check-config "$d/syntax.json")
t_is "$?" 1 "a syntax error: exit 1"
t_like "$out" "^$d/syntax.json:1:[0-9]+: routes\[0\]: " "a syntax error names its position and key path"

printf '{"routes": [{"name": "caf\xe9", "action": "store"}]}' >"$d/utf8.json"
out=$("$T_PROXY" check-config "$d/utf8.json")
t_is "$?" 1 "invalid UTF-8: exit 1"
t_like "$out" "^$d/utf8.json:1:[0-9]+: routes\[0\]\.name: .*UTF-8" "invalid UTF-8 is named"

# Durations are bounded (issue 10: deadline arithmetic could wrap): 25h is refused, with its position.
printf '{\n  "limits": { "dump_timeout": "25h", "collector_timeout": "24h" }\n}\n' >"$d/long.json"
out=$("$T_PROXY" check-config "$d/long.json")
t_is "$?" 1 "a 25h dump_timeout: exit 1"
t_like "$out" "^$d/long.json:2:31: limits\.dump_timeout: .*\"25h\"" "a 25h dump_timeout is refused with its position"
t_is "$(printf '%s\n' "$out" | wc -l)" 1 "24h is still accepted"
# The names section and the match keys on names (issue 12): each problem at its position.
cat >"$d/names.json" <<'JSON'
{
  "names": { "labels": ["app", "app"], "annotations": ["a b"],
             "containerd": { "state": "run/containerd", "namespaces": ["k8s..io"] },
             "docker": { "root": "/var/lib/docker" } },
  "routes": [
    { "name": "n", "action": "reject",
      "match": { "pod_namespace": "", "labels": {}, "annotations": { "owner": 7 } } }
  ]
}
JSON
out=$("$T_PROXY" check-config "$d/names.json")
t_is "$?" 1 "bad names keys: exit 1"
t_is "$(printf '%s\n' "$out" | wc -l)" 8 "bad names keys: one line per problem"
expect() { t_ok "reports $2" grep -qF -- "$d/names.json:$1: $2" <<<"$out"; }
expect 2:32 'names.labels[1]: "app" is listed twice'
expect 2:56 'names.annotations[0]: "a b" is not a label or annotation key'
expect 3:39 'names.containerd.state: expected an absolute path'
expect 3:72 'names.containerd.namespaces[0]: "k8s..io" is not a containerd namespace name'
expect 4:26 'names.docker.root: unknown key "root"'
expect 7:35 'routes[0].match.pod_namespace: must not be empty'
expect 7:49 'routes[0].match.labels: must not be empty'
expect 7:79 'routes[0].match.annotations.owner: expected a string'

out=$("$T_PROXY" check-config "$d/missing.json")
t_is "$?" 1 "a missing file: exit 1"
t_like "$out" "$d/missing.json: No such file" "a missing file is named"

if [ "$(id -u)" -eq 0 ]; then
	t_core_pattern_save
	before=$(cat /proc/sys/kernel/core_pattern)
	"$T_PROXY" --config "$d/bad.json" --install-pattern 2>"$d/daemon.err"
	t_is "$?" 1 "the daemon refuses to start on a bad config"
	t_ok "and says why, with the position" grep -qF "$d/bad.json:2:53: listen.protocol" "$d/daemon.err"
	t_is "$(cat /proc/sys/kernel/core_pattern)" "$before" "core_pattern untouched by the failed start"
fi
t_done
