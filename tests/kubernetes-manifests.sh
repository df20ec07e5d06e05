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
# a crash is stored and SIGTERM restores.
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
t_done
