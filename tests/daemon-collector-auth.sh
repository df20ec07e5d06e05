#!/bin/bash
# The reference collector trusts the kernel, not its peers. Anyone in the
# pod's network namespace can connect to @coredump-collector: a forged
# request with a socket of its own as "the dump" writes nothing, ids that
# are not [0-9A-Za-z-] are declined, idle connections cannot keep a real
# dump out, and a real dump's metadata says which of its facts the kernel
# proved: pid, uid and gid from the task's pidfd when the collector's pid
# namespace sees the task, uid and gid from the connection when it does not
# (a sidecar with a pid namespace of its own). docs/collector-protocol.md,
# "How the collector knows a dump is real".
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv
t_core_pattern_save

FAKE=$T_HELPERS/cdp-fake-proxy


# new_pod: a pod slice with a holder (the pod's network and pid namespaces) and three container
# cgroups: SIDE_CG (the collector's), APP_CG (what crashes), EVIL_CG (a hostile process of the pod).
new_pod() {
	local uid
	uid=$(t_uuid)
	POD_CG="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice"
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$(t_hex64).scope" || return 1
	t_container_start "$T_CG" || return 1
	POD_HOLDER=$T_HOLDER
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$(t_hex64).scope" && SIDE_CG=$T_CG
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$(t_hex64).scope" && APP_CG=$T_CG
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$(t_hex64).scope" && EVIL_CG=$T_CG
}

# collector HOW DIR [ARGS...]: coredump-collector in the pod's network namespace and SIDE_CG.
# HOW: own-pidns (a Kubernetes sidecar: a pid namespace of its own), pod-pidns (the pod's, as with
# shareProcessNamespace), host-pidns (the host's, as a collector run on the host).
collector() {
	local how=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	case $how in
	own-pidns)
		nsenter -t "$POD_HOLDER" -n -- unshare --pid --fork --mount --mount-proc \
			sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' c "$SIDE_CG" \
			"$T_COLLECTOR" --compress 0 --dir "$dir" "$@" 2>"$dir.log" &
		;;
	pod-pidns) t_container_run "$POD_HOLDER" "$SIDE_CG" "$T_COLLECTOR" --compress 0 --dir "$dir" "$@" 2>"$dir.log" & ;;
	host-pidns)
		nsenter -t "$POD_HOLDER" -n -- sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' c \
			"$SIDE_CG" "$T_COLLECTOR" --compress 0 --dir "$dir" "$@" 2>"$dir.log" &
		;;
	esac
	t_track_pid $!
	t_wait_for 10 grep -qs "listening on" "$dir.log"
}

collector_pid() { pgrep -n -f "^$T_COLLECTOR --compress 0 --dir $1"; }

# in_pod CG CMD...: CMD in the pod's namespaces, cgroup CG.
in_pod() { t_container_run "$POD_HOLDER" "$@"; }

# crash COMM [ARGS...]: a crash in APP_CG; sets out, ev, id.
crash() {
	local comm=$1
	shift
	out=$(in_pod "$APP_CG" "$T_HELPERS/cdp-crasher" --name "$comm" "$@")
	ev=$(t_event "$d" "$comm")
	id=$(t_jq "$ev" .id)
}

# line KEY TEXT: the rest of the line KEY=... of TEXT (cdp-fake-proxy's output).
line() { printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -n 1; }

# files_named DIR PATTERN: how many files of DIR have PATTERN in their names.
files_named() { find "$1" -name "*$2*" | wc -l; }

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"pods","match":{"container":true},"action":"forward","fallback":"store"}]' \
	'"limits": { "collector_timeout": "2s" }'
t_ok "daemon starts" t_proxy_start "$d"

# ---- a sidecar with its own pid namespace ---------------------------------------------
new_pod
collector own-pidns "$d/side"

# A process of the pod forges a request, then passes a stream socket of its own as the dump.
for kind in socketpair connected accepted unconnected; do
	res=$(in_pod "$EVIL_CG" "$FAKE" forge @coredump-collector "$kind" "forged-$kind")
	t_is "$(line answer "$res")" '{"accept":true}' "forged $kind: the request reads like a real one"
	t_is "$(line result "$res" | jq -r .consumed)" false "forged $kind: message 4 says nothing was read"
	t_is "$(line result "$res" | jq -r .error)" "refused: own-network-namespace" \
		"forged $kind: refused, made in the pod's network namespace"
	t_is "$(files_named "$d/side" "forged-$kind")" 0 "forged $kind: nothing written"
done

# Ids name files: only what the protocol promises.
for bad in '../evil' 'a/b' '..' '.hidden' 'nul\u0000x' 'caf\u00e9' $'caf\xc3\xa9' "$(printf 'x%.0s' $(seq 1 129))"; do
	res=$(in_pod "$EVIL_CG" "$FAKE" request @coredump-collector "$bad")
	t_is "$(line answer "$res")" '{"accept":false,"reason":"bad-request"}' "id '${bad:0:20}': declined"
done
t_is "$(ls -A "$d" | grep -c evil)" 0 "bad ids: nothing written beside the directory"
t_is "$(ls -A "$d/side" | wc -l)" 0 "bad ids: nothing written in it"

# Idle connections, and requests that announce a huge deadline_ms and then send nothing; more
# of them than the collector lets wait at once. Each flood holds its connections for 8 s.
flood() { # flood N MODE FILE
	in_pod "$EVIL_CG" "$FAKE" flood @coredump-collector "$1" "$2" 8000 >"$3" &
	t_track_pid $!
	t_wait_for 15 grep -qs connected= "$3"
}
flood 20 idle "$d/flood1.out"
flood 8 request "$d/flood2.out"
flood 80 idle "$d/flood3.out"
t_is "$(t_kv "$d/flood2.out" answered)" 8 "flood: the requests with a huge deadline were answered"
start=$EPOCHREALTIME
crash side-real --size 2097152
secs=$(t_elapsed "$start")
t_is "$(t_jq "$ev" .outcome)" delivered "108 hostile connections: a real dump is still delivered"
t_ok "delivered within 5 s of the crash (took $secs s)" t_lt "$secs" 5
t_wait_for 5 test -f "$d/side/$id.json"
t_ok "the real core is there" t_is_elf "$d/side/$id.core"
meta=$(cat "$d/side/$id.json" 2>/dev/null)
t_is "$(t_jq "$meta" .verified.by)" connection "sidecar: verified by the connection (the task is out of sight)"
t_is "$(t_jq "$meta" '.verified.keys | join(",")')" uid,gid "sidecar: uid and gid are the kernel's, the pid is not"
t_is "$(t_jq "$meta" .pid)" "$(t_kv -t "$out" pid)" "sidecar: the pid is the proxy's (the task's own pid namespace)"
t_is "$(t_jq "$meta" .uid)" 0 "sidecar: uid from the peer credentials"
t_is "$(t_kv -t "$out" coredump)" 1 "sidecar: the task got its core"
t_wait_for 15 grep -qs closed= "$d/flood1.out"
t_wait_for 15 grep -qs closed= "$d/flood2.out"
t_is "$(t_kv "$d/flood1.out" closed)" 20 "flood: idle connections were cut within 8 s"
t_is "$(t_kv "$d/flood2.out" closed)" 8 "flood: requests without a dump were cut within 8 s, whatever deadline_ms said"
t_ok "the collector is still running" kill -0 "$(collector_pid "$d/side")"
t_ok "it logged the refusals" grep -q "refusing the dump fd: own-network-namespace" "$d/side.log"

# ---- the pod's pid namespace shared (shareProcessNamespace) ---------------------------------
new_pod
collector pod-pidns "$d/shared"
res=$(in_pod "$EVIL_CG" "$FAKE" forge @coredump-collector socketpair forged-shared)
t_is "$(line answer "$res")" eof "shared pid namespace: a pod process is refused at once"
t_ok "shared: the refusal is logged" grep -q "refusing a connection: peer-in-pid-namespace" "$d/shared.log"
t_is "$(files_named "$d/shared" forged)" 0 "shared: nothing written"
crash shared-real
t_is "$(t_jq "$ev" .outcome)" delivered "shared: a real dump is delivered"
t_wait_for 5 test -f "$d/shared/$id.json"
meta=$(cat "$d/shared/$id.json" 2>/dev/null)
t_is "$(t_jq "$meta" .verified.by)" pidfd "shared: verified by the task's pidfd"
t_is "$(t_jq "$meta" '.verified.keys | join(",")')" pid,uid,gid "shared: pid, uid and gid are the kernel's"
t_is "$(t_jq "$meta" .pid)" "$(t_kv -t "$out" pid)" "shared: the pid as the collector's pid namespace sees it"
t_is "$(t_jq "$meta" .uid)" 0 "shared: the uid from the pidfd"

# ---- --require-task-proof: nothing on the connection's word alone ------------------------------
new_pod
collector own-pidns "$d/strict" --require-task-proof
# A host process (outside the pod's pid namespace) whose fake dump comes from another network namespace:
# what the connection proves holds for it, so only the strict mode refuses it.
res=$("$FAKE" forge @coredump-collector socketpair forged-strict "$POD_HOLDER")
t_is "$(line result "$res" | jq -r .error)" "refused: task-not-visible" \
	"strict: a dump from another network namespace, task out of sight: refused"
t_is "$(files_named "$d/strict" forged)" 0 "strict: nothing written"
crash strict-real
t_is "$(t_jq "$ev" .outcome)" stored "strict sidecar: a real dump it cannot prove goes to the fallback"
t_is "$(t_jq "$ev" .reason)" collector-error "strict sidecar: reason collector-error"
t_ok "strict sidecar: the host store has the whole core" t_is_elf "$d/store/$id.core"
t_is "$(ls -A "$d/strict" | wc -l)" 0 "strict sidecar: the collector kept nothing"

# ---- a collector in the host's pid namespace ---------------------------------------------
new_pod
collector host-pidns "$d/hostpid"
crash hostpid-refused
t_is "$(t_jq "$ev" .outcome)" stored "host pid namespace: the proxy itself is refused without --allow-host-peer"
t_ok "host pid namespace: logged" grep -q "refusing a connection: peer-in-pid-namespace" "$d/hostpid.log"
t_is "$(ls -A "$d/hostpid" | wc -l)" 0 "host pid namespace: nothing written"

new_pod
collector host-pidns "$d/hostpeer" --allow-host-peer
crash hostpeer-real
t_is "$(t_jq "$ev" .outcome)" delivered "--allow-host-peer: a real dump is delivered"
t_wait_for 5 test -f "$d/hostpeer/$id.json"
meta=$(cat "$d/hostpeer/$id.json" 2>/dev/null)
t_is "$(t_jq "$meta" .verified.by)" pidfd "--allow-host-peer: verified by the pidfd"
t_is "$(t_jq "$meta" .pid)" "$(t_jq "$ev" .pid)" "--allow-host-peer: the pid as the host sees it"
# Root on the host, with a socket from the host's network namespace: visible, and not a crash.
res=$("$FAKE" forge @coredump-collector socketpair forged-root "$POD_HOLDER")
t_is "$(line result "$res" | jq -r .error)" "refused: not-coredumping" \
	"--allow-host-peer: a visible process that is not being dumped: refused"
cp "$FAKE" "$d/fake-proxy"
res=$(nsenter -t "$POD_HOLDER" -n -- setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$d/fake-proxy" forge @coredump-collector socketpair forged-nobody)
t_is "$(line answer "$res")" eof "--allow-host-peer: a peer other than root is refused at once"
t_ok "--allow-host-peer: logged" grep -q "refusing a connection: peer-not-root" "$d/hostpeer.log"
t_is "$(files_named "$d/hostpeer" forged)" 0 "--allow-host-peer: nothing forged written"

t_proxy_stop
t_done
