#!/bin/bash
# contrib/kubernetes: the kustomize base renders (kubectl kustomize, Debian's
# kubernetes-client; nothing is fetched from outside the package archive), every
# object is valid against the API's types (tests/k8s-schema.py with Debian's
# python3-kubernetes: unknown fields and mistyped values are errors), the structural
# facts of issue 14 hold (tests/k8s-check.py: rollout strategy, hostPID, no
# hooks, no privileged container, the capability list, hostPaths at the same
# path, a socket per pod, the exporter unprivileged with the probes), the
# ConfigMap's config passes check-config, and the daemon runs as the pod
# would run it: in a mount and network namespace of its own, with exactly
# the manifest's capabilities as its bounding set, it installs the pattern,
# a crash is stored and SIGTERM restores. The same in pipe mode (kernels
# before 6.16) with the helper the init container's own command put on the
# node, at a path the pod does not see.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_cmd python3 unshare setpriv jq
kubectl=$(command -v kubectl) || t_skip_all "needs kubectl (kustomize)"
python3 -c 'import yaml' 2>/dev/null || t_skip_all "needs python3-yaml"

base=$top_srcdir/contrib/kubernetes/base
t_tmpdir
d=$T_TMP

t_ok "the kustomize base renders" bash -c "'$kubectl' kustomize '$base' >'$d/rendered.yaml' 2>'$d/kustomize.err'"
t_is "$(grep -c '^kind:' "$d/rendered.yaml")" 3 "a Namespace, a ConfigMap and a DaemonSet"

# The API's types, offline: Debian's python3-kubernetes describes every field of every object.
/usr/bin/python3 -c 'import kubernetes.client' 2>/dev/null || t_skip_all "needs python3-kubernetes"
t_ok "every object is valid against the API's types (no unknown field, every value typed)" \
	bash -c "/usr/bin/python3 '$top_srcdir/tests/k8s-schema.py' <'$d/rendered.yaml' >'$d/schema.out' 2>&1"
t_diag "$(tr '\n' ' ' <"$d/schema.out")"
t_ok "the sidecar example is valid too" \
	bash -c "/usr/bin/python3 '$top_srcdir/tests/k8s-schema.py' <'$top_srcdir/contrib/kubernetes/examples/sidecar-collector.yaml' >'$d/schema2.out' 2>&1"
printf 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec: {selector: {matchLabels: {a: b}}, template: {spec: {hostPID: "yes", containers: [{name: c, image: x, imagePullPolice: Always}]}}}\n' >"$d/invalid.yaml"
/usr/bin/python3 "$top_srcdir/tests/k8s-schema.py" <"$d/invalid.yaml" >"$d/invalid.out" 2>&1
t_is "$(grep -c 'hostPID: bool expected\|imagePullPolice: no such field' "$d/invalid.out")" 2 \
	"the validation can fail (a string for hostPID, a misspelt field)"

python3 "$top_srcdir/tests/k8s-check.py" <"$d/rendered.yaml" >"$d/facts" 2>&1 || echo "FAIL	k8s-check.py: $(tail -n 1 "$d/facts")" >>"$d/facts"
while IFS=$'\t' read -r result what; do
	t_ok "$what" test "$result" = PASS
done <"$d/facts"

# The checks can fail: a rendering that breaks two of the facts.
sed -e 's/hostPID: true/hostPID: false/' -e 's/maxUnavailable: 0/maxUnavailable: 1/' "$d/rendered.yaml" >"$d/broken.yaml"
python3 "$top_srcdir/tests/k8s-check.py" <"$d/broken.yaml" >"$d/broken-facts" 2>&1
t_is "$(grep -c '^FAIL' "$d/broken-facts")" 2 "the structural checks catch a broken rendering (hostPID, maxUnavailable)"

python3 -c 'import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["kind"] == "ConfigMap":
        open(sys.argv[2], "w").write(doc["data"]["config.json"])' "$d/rendered.yaml" "$d/configmap.json"
t_ok "the ConfigMap's config passes check-config" "$T_PROXY" check-config "$d/configmap.json"

# ---- the daemon as the pod runs it ---------------------------------------------------------
t_require_socket_dumps
t_core_pattern_save
marker='|/bin/false cdp-k8s %p'
t_core_pattern_set "$marker"
caps=$(python3 "$top_srcdir/tests/k8s-check.py" --caps <"$d/rendered.yaml")
t_diag "the manifest's capabilities: $caps"
run=$d/run # the hostPath
mkdir -p "$run"
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
uid=$(t_uuid)
T_PROXY_WRAP=(unshare -m -n -- sh -c 'mount --bind "$0" "$0" && exec setpriv --bounding-set=-all,'"$caps"' -- "$@"' "$run")
t_ok "the daemon starts with the pod's namespaces and capabilities" \
	t_proxy_start "$d" "--socket=$run/kernel-$uid.sock" --on-takeover=wait
T_PROXY_WRAP=()
allowed=$(setpriv --bounding-set=-all,"$caps" -- awk '/^CapBnd:/ { print $2 }' /proc/self/status)
for p in "$T_PROXY_PID" "$(t_proxy_daemon)"; do
	bnd=$(awk '/^CapBnd:/ { print $2 }' "/proc/$p/status")
	t_is "$(( 0x$bnd & ~0x$allowed ))" 0 "pid $p: nothing beyond the manifest's list ($bnd within $allowed)"
done
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/kernel-$uid.sock" "it installs the pattern"
t_ok "and can count lost dumps from its network namespace" \
	bash -c "'$T_PROXY' --config '$d/config.json' '--socket=$run/kernel-$uid.sock' status | jq -e '.lost_dump_accounting.active' >/dev/null"
"$T_HELPERS/cdp-crasher" --name k8s-crash >/dev/null
t_is "$(t_jq "$(t_event "$d" k8s-crash)" .outcome)" stored "a crash is stored"
t_ok "SIGTERM stops it" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "and the pattern from before is back"

# ---- a node without the coredump socket: the init container's helper, the pipe intake ------
# The init container's command, run as it runs (root, no capability), with the node's
# directory and the image's helper at this test's paths; twice, as a rollout does.
# Short paths: the pattern holds at most 127 bytes (k8s-check.py checks the manifest's own).
node=$d/n
install -d -m 0755 "$node"
init=$(python3 "$top_srcdir/tests/k8s-check.py" --init-command <"$d/rendered.yaml")
init=${init//\/node\/opt\/cdp/$node}
init=${init//\/usr\/libexec\/coredump-proxy\/coredump-proxy-pipe/$top_builddir/coredump-proxy-pipe}
for i in 1 2; do
	t_ok "the init container's command puts the helper on the node (run $i)" \
		setpriv --bounding-set=-all --inh-caps=-all -- sh -c "$init"
done
t_is "$(stat -c '%a %u %U' "$node/coredump-proxy-pipe")" "755 0 root" "the helper is root's, 0755"
t_is "$(find "$node" -mindepth 1 | wc -l)" 1 "nothing else is left there"
t_sysctl_set /proc/sys/kernel/core_pipe_limit "$(cat /proc/sys/kernel/core_pipe_limit)"
limit_before=$(cat /proc/sys/kernel/core_pipe_limit)
# "pipe" stands for what "auto" picks on a kernel before 6.16; the pod does not see the node's /opt/cdp.
t_proxy_config "$d" pipe '[{"name":"host","match":{},"action":"store"}]'
jq --arg h "$node/coredump-proxy-pipe" '.listen.pipe_helper = $h' "$d/config.json" >"$d/config.new" &&
	mv "$d/config.new" "$d/config.json"
uid=$(t_uuid)
uid=${uid%%-*}
T_PROXY_WRAP=(unshare -m -n -- sh -c 'mount --bind "$0" "$0" && mount -t tmpfs cdp-pod "$1" && shift &&
	exec setpriv --bounding-set=-all,'"$caps"' -- "$@"' "$run" "$node")
t_ok "the daemon starts in pipe mode with the pod's namespaces and capabilities" \
	t_proxy_start "$d" "--socket=$run/kernel-$uid.sock" --on-takeover=wait
T_PROXY_WRAP=()
t_like "$(cat /proc/sys/kernel/core_pattern)" "^\\|$node/coredump-proxy-pipe $run/kernel-$uid.sock P=%P " \
	"it installs the pipe pattern naming the node's helper"
"$T_HELPERS/cdp-crasher" --name k8s-pipe >/dev/null
ev=$(t_event "$d" k8s-pipe)
t_is "$(t_jq "$ev" .mode)/$(t_jq "$ev" .outcome)" pipe/stored "a crash comes through the helper and is stored"
t_ok "SIGTERM stops it" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "the pattern from before is back"
t_is "$(cat /proc/sys/kernel/core_pipe_limit)" "$limit_before" "and core_pipe_limit"
t_done
