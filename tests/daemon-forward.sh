#!/bin/bash
# Forwarding into the container: a simulated Kubernetes pod (one network
# namespace, an app container and a sidecar container under one pod slice).
# The app's crash is delivered to the sidecar's coredump-collector; every
# way a forward cannot happen ends in the route's fallback with its reason.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv
t_core_pattern_save

routes='[
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}
]'

# make_pod NAME: a pod slice with a pause holder (the pod's namespaces); sets POD_UID, POD_CG, POD_HOLDER.
make_pod() {
	POD_UID=$(t_uuid)
	POD_CG="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID//-/_}.slice"
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$(t_hex64).scope" || return 1
	t_container_start "$T_CG" || return 1
	POD_HOLDER=$T_HOLDER
}

# container_cg: a new container cgroup in the current pod; sets T_CG and CT_ID.
container_cg() {
	CT_ID=$(t_hex64)
	t_cgroup_make "$CG2" "$POD_CG/cri-containerd-$CT_ID.scope"
}

# start_collector CG DIR [ARGS...]: coredump-collector in the pod's namespaces and cgroup CG.
start_collector() {
	local cg=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	t_container_run "$POD_HOLDER" "$cg" "$T_COLLECTOR" --compress 0 --dir "$dir" "$@" 2>"$dir.log" &
	t_track_pid $!
	t_wait_for 10 grep -qs "listening on" "$dir.log"
}

# crash CG COMM [CRASHER ARGS...]: sets out and ev.
crash() {
	local cg=$1 comm=$2
	shift 2
	out=$(t_container_run "$POD_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name "$comm" "$@")
	ev=$(t_event "$d" "$comm")
}

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request "$routes" '"limits": { "collector_timeout": "1s" }'
t_ok "daemon starts" t_proxy_start "$d"

# ---- delivered to the pod's sidecar ----------------------------------------
make_pod
container_cg && side_cg=$T_CG
container_cg && app_cg=$T_CG app_id=$CT_ID
start_collector "$side_cg" "$d/pod1"
crash "$app_cg" app-crash --size 8388608 --threads 4
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "delivered to the sidecar collector"
t_is "$(t_jq "$ev" .reason)" route "delivered: reason route"
t_is "$(t_jq "$ev" .route)" containers "delivered: route containers"
t_is "$(t_jq "$ev" .action)" forward "delivered: action forward"
t_is "$(t_jq "$ev" '.fallback // false')" false "delivered: no fallback"
t_is "$(t_jq "$ev" .container.id)" "$app_id" "delivered: the app container's id"
t_is "$(t_jq "$ev" .container.pod_uid)" "$POD_UID" "delivered: the pod's uid"
t_wait_for 5 test -f "$d/pod1/$id.json"
t_ok "collector wrote the core" test -f "$d/pod1/$id.core"
t_ok "the core is an ELF file" t_is_elf "$d/pod1/$id.core"
t_ok "the core holds the 8 MiB the task touched" test "$(stat -c %s "$d/pod1/$id.core")" -ge 8388608
t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$d/pod1/$id.core")" "event bytes = the collector's core size"
t_is "$(jq -r .bytes "$d/pod1/$id.json")" "$(stat -c %s "$d/pod1/$id.core")" "metadata bytes = core size"
t_is "$(jq -r .pid "$d/pod1/$id.json")" "$(t_kv -t "$out" pid)" "metadata pid is the in-container pid"
t_ok "the host pid differs from it" test "$(t_jq "$ev" .pid)" != "$(t_kv -t "$out" pid)"
t_is "$(jq -r .container.id "$d/pod1/$id.json")" "$app_id" "metadata names the container"
t_is "$(jq -r .comm "$d/pod1/$id.json")" app-crash "metadata comm"
t_is "$(jq -r .signal "$d/pod1/$id.json")" 11 "metadata signal"
t_is "$(jq -r 'has("host_pid")' "$d/pod1/$id.json")" false "no host pid unless the route asks"
t_is "$(t_kv -t "$out" coredump)" 1 "the task's wait status shows a core"
t_is "$(ls "$d/store" | wc -l)" 0 "nothing stored on the host"

# ---- no collector ------------------------------------------------------------
make_pod
container_cg && lone_cg=$T_CG
crash "$lone_cg" no-collector
t_is "$(t_jq "$ev" .outcome)" stored "no collector: stored on the host"
t_is "$(t_jq "$ev" .reason)" no-collector "no collector: reason no-collector"
t_is "$(t_jq "$ev" .fallback)" true "no collector: the event says the fallback acted"
t_ok "no collector: core on the host" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_is "$(t_kv -t "$out" coredump)" 1 "no collector: the task still got its core"

# ---- a collector that declines -------------------------------------------------
make_pod
container_cg && side_cg=$T_CG
container_cg && app_cg=$T_CG
t_container_run "$POD_HOLDER" "$side_cg" "$T_HELPERS/cdp-test-peer" collector @coredump-collector decline \
	>"$d/decline.out" 2>&1 &
t_track_pid $!
t_wait_for 10 grep -q listening=1 "$d/decline.out"
crash "$app_cg" declined
t_is "$(t_jq "$ev" .outcome)" stored "declined: stored on the host"
t_is "$(t_jq "$ev" .reason)" collector-declined "declined: reason collector-declined"
t_ok "declined: the collector saw message 1" grep -q '^request=[1-9]' "$d/decline.out"

# ---- a listener outside the pod -------------------------------------------------
make_pod
container_cg && app_cg=$T_CG
# A host process (cgroup root) that enters the pod's network namespace and listens there.
mkdir -p "$d/intruder"
nsenter -t "$POD_HOLDER" -n -- "$T_COLLECTOR" --compress 0 --dir "$d/intruder" 2>"$d/intruder.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/intruder.log"
crash "$app_cg" untrusted
t_is "$(t_jq "$ev" .outcome)" stored "host listener: refused, stored on the host"
t_is "$(t_jq "$ev" .reason)" untrusted-collector "host listener: reason untrusted-collector"
t_is "$(ls "$d/intruder" | wc -l)" 0 "host listener got nothing"
t_ok "the refusal is logged with the listener's cgroup" grep -q "refusing collector" "$d/proxy.err"

# A process of another pod's cgroup listening in this pod's namespace.
make_pod
container_cg && app_cg=$T_CG
other_uid=$(t_uuid)
t_cgroup_make "$CG2" "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${other_uid//-/_}.slice/cri-containerd-$(t_hex64).scope"
start_collector "$T_CG" "$d/otherpod"
crash "$app_cg" other-pod
t_is "$(t_jq "$ev" .reason)" untrusted-collector "another pod's listener: refused"
t_is "$(ls "$d/otherpod" | wc -l)" 0 "another pod's listener got nothing"

t_proxy_stop

# ---- trust "container": a sidecar is not the same container -----------------------
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"strict","match":{"container":true},"action":"forward","trust":"container"}]'
t_ok "daemon starts (trust container)" t_proxy_start "$d"
make_pod
container_cg && side_cg=$T_CG
container_cg && app_cg=$T_CG
start_collector "$side_cg" "$d/side"
crash "$app_cg" strict-side
t_is "$(t_jq "$ev" .reason)" untrusted-collector "trust container: the sidecar is refused"
start_collector "$app_cg" "$d/self" --address @self-collector
t_proxy_stop
t_proxy_config "$d" request '[{"name":"strict","match":{"container":true},"action":"forward","trust":"container","address":"@self-collector"}]'
t_ok "daemon restarts (own collector)" t_proxy_start "$d"
crash "$app_cg" strict-self
t_is "$(t_jq "$ev" .outcome)" delivered "trust container: a collector in the task's own container is used"
t_proxy_stop

# ---- the host network namespace is never a container's collector --------------------
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request "$routes"
t_ok "daemon starts (host network)" t_proxy_start "$d"
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
hostnet_cg=$T_CG
t_container_start "$hostnet_cg" --pid --mount --fork --mount-proc
POD_HOLDER=$T_HOLDER
start_collector "$hostnet_cg" "$d/hostnet"
crash "$hostnet_cg" host-netns
t_is "$(t_jq "$ev" .reason)" host-network "container on the host network: never forwarded"
t_is "$(t_jq "$ev" .outcome)" stored "container on the host network: stored on the host"
t_is "$(ls "$d/hostnet" | wc -l)" 0 "the host-namespace collector got nothing"

# ---- setuid dumps stay on the host ---------------------------------------------------
make_pod
container_cg && side_cg=$T_CG
container_cg && app_cg=$T_CG
start_collector "$side_cg" "$d/suid"
t_sysctl_set /proc/sys/fs/suid_dumpable 2
install -m 4755 -o root "$T_HELPERS/cdp-crasher" "$d/suid-crasher"
out=$(t_container_run "$POD_HOLDER" "$app_cg" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$d/suid-crasher" --name suid-crash)
ev=$(t_event "$d" suid-crash)
t_is "$(t_jq "$ev" .reason)" sensitive "setuid dump: not forwarded (reason sensitive)"
t_is "$(t_jq "$ev" .outcome)" stored "setuid dump: stored on the host"
t_is "$(stat -c %a "$d/store/$(t_jq "$ev" .id).core")" 600 "setuid dump: root-only on the host"
t_is "$(jq -r .sensitive "$d/store/$(t_jq "$ev" .id).json")" true "setuid dump: metadata says sensitive"
t_is "$(ls "$d/suid" | wc -l)" 0 "setuid dump: the pod's collector got nothing"
t_proxy_stop

# ---- plain mode forwards too, and a path address inside the container ------------------
t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain "[{\"name\":\"containers\",\"match\":{\"container\":true},\"action\":\"forward\",\"address\":\"$d/pod.sock\"}]"
t_ok "daemon starts (plain)" t_proxy_start "$d"
make_pod
container_cg && side_cg=$T_CG
container_cg && app_cg=$T_CG
start_collector "$side_cg" "$d/plainpod" --address "$d/pod.sock"
crash "$app_cg" plain-fwd --size 2097152
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "plain mode: delivered through a path address"
t_wait_for 5 test -f "$d/plainpod/$id.json"
t_ok "plain mode: the collector's core is ELF" t_is_elf "$d/plainpod/$id.core"
t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$d/plainpod/$id.core")" "plain mode: bytes match"
t_is "$(t_kv -t "$out" coredump)" 1 "plain mode: the task got its core"
t_proxy_stop
t_done
