#!/bin/bash
# coredump-proxy-hook run by a real OCI runtime (Debian's crun): a bundle's
# config.json names the hook for createRuntime and poststop and carries the
# annotations containerd's CRI plugin (then CRI-O) sets for a pod. The
# container runs coredump-collector and crashes: the event and the
# collector's <id>.json carry pod name, namespace, container name and image,
# which only the registration could have told (the runtimes' state roots
# point at empty directories); a daemon restart keeps the registration; when
# the container ends, it is gone. The hook fails open: with the daemon down,
# its socket missing, a daemon that never answers, garbage or nothing on
# stdin, it exits 0 in under a second. A registration that claims another
# container's cgroup is refused.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter crun busybox python3
t_core_pattern_save

HOOK="$top_builddir/coredump-proxy-hook"
routes='[
  {"name":"pods","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}
]'

t_tmpdir
d=$T_TMP
mkdir -p "$d/empty"
t_proxy_config "$d" request "$routes" "\"names\": { \"containerd\": { \"state\": \"$d/empty\" },
  \"storage\": { \"graph_root\": \"$d/empty\", \"run_root\": \"$d/empty\" }, \"docker\": { \"data_root\": \"$d/empty\" } }"
t_ok "daemon starts" t_proxy_start "$d"
status() { "$T_PROXY" status --config "$d/config.json"; }
registered() { status | jq -e --arg id "$1" '[.containers[] | select(.id == $id and .source == "hook")] | length == 1' >/dev/null; }
unregistered() { ! registered "$1"; }

# ---- crun runs the hook ------------------------------------------------------------
t_rootfs "$d/rootfs" || t_skip_all "cannot make a root filesystem"
# crun turns hugetlb on at the root of cgroup2: back as it was, once the cgroups below are gone.
case " $(cat "$CG2/cgroup.subtree_control") " in
*" hugetlb "*) ;;
*) t_at_exit 'echo -hugetlb >"$CG2/cgroup.subtree_control" 2>/dev/null' ;;
esac

# bundle DIR ID CGROUPS-PATH JQ-ANNOTATIONS: a crun bundle whose process runs a collector and a crash.
bundle() {
	local dir=$1
	mkdir -p "$dir/dumps"
	(cd "$dir" && crun spec) || return 1
	jq --arg b "$top_builddir" --arg hook "$HOOK" --arg cfg "$d/config.json" --arg dumps "$dir/dumps" \
		--arg root "$d/rootfs" --arg cg "$3" --argjson a "$4" --arg comm "$5" '
	  .process.terminal = false | .root = {path: $root, readonly: true} | .linux.resources = {} |
	  .linux.cgroupsPath = $cg | .annotations = $a |
	  .process.args = ["sh", "-c", ($b + "/coredump-collector --dir /dumps 2>/dumps/collector.log & " +
	    "i=0; while [ $i -lt 100 ] && ! grep -q listening /dumps/collector.log; do sleep 0.05; i=$((i+1)); done; " +
	    $b + "/tests/helpers/cdp-crasher --name " + $comm + " > /dumps/crash.out; " +
	    "while [ ! -e /dumps/stop ]; do sleep 0.1; done; kill $!")] |
	  .mounts += [{destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"]},
	              {destination: $b, type: "bind", source: $b, options: ["rbind", "ro"]},
	              {destination: "/dumps", type: "bind", source: $dumps, options: ["rbind", "rw"]}] |
	  .hooks = {createRuntime: [{path: $hook, args: ["coredump-proxy-hook", "--config", $cfg, "createRuntime"], timeout: 5}],
	            poststop: [{path: $hook, args: ["coredump-proxy-hook", "--config", $cfg, "poststop"], timeout: 5}]}
	' "$dir/config.json" >"$dir/config.new" && mv "$dir/config.new" "$dir/config.json"
}

# run_crun DIR ID: crun in a private mount namespace with a plain cgroup2 mount (testing.md).
run_crun() {
	unshare -m sh -c 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup &&
		exec crun --root "$1" --cgroup-manager=cgroupfs run -b "$2" "$3"' crun "$d/crun" "$1" "$2" \
		>"$1/crun.out" 2>"$1/crun.err" </dev/null &
	CRUN=$!
	t_track_pid "$CRUN"
}

# one_container LABEL CGROUP-PARENT CGROUP-LEAF JQ-ANNOTATIONS COMM NAME POD NAMESPACE IMAGE
one_container() {
	local label=$1 parent=$2 leaf=$3 comm=$5 id=$ID ev cid
	t_cgroup_make "$CG2" "$parent" || return 1 # made here, so that the cleanup removes it
	bundle "$d/$label" "$id" "/$parent/$leaf" "$4" "$comm" || return 1
	run_crun "$d/$label" "$id"
	t_ok "$label: the hook registered the container at createRuntime" t_wait_for 10 registered "$id"
	ev=$(t_event "$d" "$comm")
	t_is "$(t_jq "$ev" .outcome)" delivered "$label: delivered to the collector in the container"
	t_is "$(t_jq "$ev" .container.name)" "$6" "$label: event: container name"
	t_is "$(t_jq "$ev" .container.pod.name)" "$7" "$label: event: pod name"
	t_is "$(t_jq "$ev" .container.pod.namespace)" "$8" "$label: event: pod namespace"
	t_is "$(t_jq "$ev" .container.image)" "$9" "$label: event: image"
	cid=$(t_jq "$ev" .id)
	t_wait_for 5 test -f "$d/$label/dumps/$cid.json"
	t_is "$(jq -r .container.name "$d/$label/dumps/$cid.json")" "$6" "$label: collector's <id>.json: container name"
	t_is "$(jq -r .container.pod.name "$d/$label/dumps/$cid.json")" "$7" "$label: collector's <id>.json: pod name"
	t_is "$(jq -r .container.pod.namespace "$d/$label/dumps/$cid.json")" "$8" \
		"$label: collector's <id>.json: pod namespace"
	t_is "$(jq -r .container.image "$d/$label/dumps/$cid.json")" "$9" "$label: collector's <id>.json: image"
}

finish_container() { # finish_container LABEL ID
	touch "$d/$1/dumps/stop"
	t_ok "$1: crun ends" t_wait_for 15 bash -c "! kill -0 $CRUN 2>/dev/null"
	t_ok "$1: poststop unregistered it" t_wait_for 5 unregistered "$2"
	crun --root "$d/crun" delete -f "$2" >/dev/null 2>&1
}

uid=$(t_uuid) ID=$(t_hex64)
one_container containerd "kubepods/besteffort/pod$uid" "$ID" "$(jq -n --arg uid "$uid" '{
  "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "cart",
  "io.kubernetes.cri.sandbox-name": "cart-5f6d", "io.kubernetes.cri.sandbox-namespace": "store",
  "io.kubernetes.cri.sandbox-uid": $uid, "io.kubernetes.cri.image-name": "registry.example/cart:3.1"}')" \
	hook-ctrd cart cart-5f6d store registry.example/cart:3.1
ctrd_id=$ID

# The daemon restarts while the container runs: the registration is kept.
t_proxy_stop
t_ok "daemon restarts" t_proxy_start "$d"
t_ok "a restart keeps the registration" registered "$ctrd_id"
finish_container containerd "$ctrd_id"

uid=$(t_uuid) ID=$(t_hex64)
one_container cri-o "kubepods/besteffort/pod$uid" "crio-$ID" "$(jq -n --arg uid "$uid" '{
  "io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.ImageName": "quay.io/store/ledger:7",
  "io.kubernetes.container.name": "ledger", "io.kubernetes.pod.name": "ledger-0",
  "io.kubernetes.pod.namespace": "finance", "io.kubernetes.pod.uid": $uid,
  "io.kubernetes.cri-o.Labels": ({"io.kubernetes.container.name": "ledger"} | tojson)}')" \
	hook-crio ledger ledger-0 finance quay.io/store/ledger:7
finish_container cri-o "$ID"

# ---- a registration that claims another container's cgroup ----------------------
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope" && other_cg=$T_CG
t_container_start "$other_cg"
claimed=$(t_hex64)
state=$(jq -cn --arg id "$claimed" --argjson pid "$T_HOLDER" '{ociVersion: "1.0.2", id: $id, status: "created",
  pid: $pid, bundle: "/x", annotations: {"io.kubernetes.cri.container-name": "impostor"}}')
err=$(printf '%s' "$state" | "$HOOK" --config "$d/config.json" createRuntime 2>&1)
t_is "$?" 0 "claiming another container's cgroup: the hook still exits 0"
t_like "$err" "another container" "claiming another container's cgroup: refused, and the hook says why"
t_ok "claiming another container's cgroup: not registered" unregistered "$claimed"
t_like "$(cat "$d/proxy.err")" "registration of $claimed refused" "the daemon logs the refusal"
state=$(jq -cn --argjson pid "$$" '{ociVersion: "1.0.2", id: "host-shell", status: "created", pid: $pid}')
err=$(printf '%s' "$state" | "$HOOK" --config "$d/config.json" createRuntime 2>&1)
t_like "$err" "no container" "a host process is in no container: refused"

# ---- a container that ends without a poststop: its registration goes with its cgroup ----
gone_id=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$gone_id.scope" && gone_cg=$T_CG
t_container_start "$gone_cg"
jq -cn --arg id "$gone_id" --argjson pid "$T_HOLDER" '{ociVersion: "1.0.2", id: $id, status: "created", pid: $pid,
  annotations: {"io.kubernetes.cri.container-name": "brief"}}' | "$HOOK" --config "$d/config.json" createRuntime
t_ok "a hand-run hook registers a simulated docker container" registered "$gone_id"
t_is "$(status | jq -r --arg id "$gone_id" '.containers[] | select(.id == $id) | .runtime')" docker \
	"the registration's runtime is the one its cgroup names"
kill -KILL "$T_HOLDER"
t_ok "its cgroup empties" t_wait_for 10 bash -c "[ -z \"\$(cat '$gone_cg/cgroup.procs')\" ]"
t_ok "its cgroup is removed" t_cgroup_remove "$gone_cg"
t_ok "without a poststop, the registration is gone with the cgroup" unregistered "$gone_id"
t_ok "and so is its file" test ! -e "$d/kernel.sock.registrations/docker-$gone_id.json"

# ---- the hook fails open --------------------------------------------------------
good=$(jq -cn --arg id "$claimed" --argjson pid "$T_HOLDER" '{ociVersion: "1.0.2", id: $id, pid: $pid, status: "created"}')
fast() { # fast NAME STDIN-COMMAND ARGS...: exit 0 in under a second
	local name=$1 feed=$2 start rc secs try
	shift 2
	# Its budget is 0.8 s, so the slow cases leave a fifth of a second for the process's
	# start and end: a machine busy with two suites can take that away once. A case over
	# the bound is timed once more, and fails only when it is slow (or fails) both times.
	for try in 1 2; do
		start=$EPOCHREALTIME
		# The hook's own time: a feed that goes on writing is not waited for.
		"$HOOK" "$@" < <(bash -c "$feed" 2>/dev/null) >/dev/null 2>&1
		rc=$?
		secs=$(t_elapsed "$start")
		[ "$rc" -eq 0 ] && t_lt "$secs" 1 && break
		t_diag "$name: exit $rc after $secs s (try $try)"
	done
	t_is "$rc" 0 "$name: exit 0"
	t_ok "$name: in under a second ($secs s)" t_lt "$secs" 1
}
fast "garbage on stdin" 'head -c 4096 /dev/urandom' --config "$d/config.json" createRuntime
fast "an empty stdin" 'true' --config "$d/config.json" createRuntime
fast "stdin that never ends" 'printf "{\"id\":"; sleep 3' --config "$d/config.json" createRuntime
fast "2 MiB on stdin" 'head -c 2097152 /dev/zero | tr "\0" " "' --config "$d/config.json" createRuntime
fast "an unknown stage" "echo '$good'" --config "$d/config.json" startContainer
fast "no stage at all" "echo '$good'" --config "$d/config.json"
fast "a config that does not parse" "echo '$good'" --config /dev/null createRuntime
t_proxy_stop
fast "the daemon down" "echo '$good'" --config "$d/config.json" createRuntime
rm -f "$d/kernel.sock.control"
fast "the control socket missing" "echo '$good'" --config "$d/config.json" createRuntime
# A "daemon" that accepts and never answers.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[2], "w").close()
c, _ = s.accept(); time.sleep(30)' "$d/kernel.sock.control" "$d/stuck.ready" &
t_track_pid $!
t_wait_for 5 test -e "$d/stuck.ready"
fast "a daemon that never answers" "echo '$good'" --config "$d/config.json" createRuntime
fast "poststop with a daemon that never answers" "echo '$good'" --config "$d/config.json" poststop
t_done
