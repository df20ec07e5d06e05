#!/bin/bash
# Crashes inside simulated containers of every runtime layout (cgroup v2 and
# v1, systemd and cgroupfs drivers): each event names the runtime, the
# container id and the pod uid, and the route chosen by them.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save

routes='[
  {"name":"pods","match":{"runtime":["containerd","cri-o","cri"]},"action":"store"},
  {"name":"no-lxc","match":{"runtime":["lxc"]},"action":"reject"},
  {"name":"containers","match":{"container":true},"action":"store"},
  {"name":"host","match":{},"action":"store"}
]'

# crash_in ROOT REL COMM: a container in cgroup ROOT/REL; crashes COMM inside; sets ev and out.
crash_in() {
	local root=$1 rel=$2 comm=$3
	ev="" out=""
	t_cgroup_make "$root" "$rel" || return 1
	local cg=$T_CG
	t_container_start "$cg" || return 1
	out=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name "$comm")
	ev=$(t_event "$d" "$comm")
}

# expect NAME RUNTIME ID POD ROUTE OUTCOME
expect() {
	local name=$1
	t_ok "$name: event written" test -n "$ev"
	if [ "$2" = null ]; then
		t_is "$(t_jq "$ev" .container)" null "$name: a host task"
	else
		t_is "$(t_jq "$ev" .container.runtime)" "$2" "$name: runtime $2"
		t_is "$(t_jq "$ev" .container.id)" "$3" "$name: container id"
		t_is "$(t_jq "$ev" '.container.pod_uid // "none"')" "$4" "$name: pod uid"
	fi
	t_is "$(t_jq "$ev" .route)" "$5" "$name: route $5"
	t_is "$(t_jq "$ev" .outcome)" "$6" "$name: outcome $6"
}

run_layouts() { # run_layouts MODE
	local m=$1 id uid
	id=$(t_hex64)
	crash_in "$CG2" "system.slice/docker-$id.scope" "$m-dock-sd"
	expect "$m docker (systemd driver)" docker "$id" none containers stored

	id=$(t_hex64)
	crash_in "$CG2" "docker/$id" "$m-dock-fs"
	expect "$m docker (cgroupfs driver)" docker "$id" none containers stored

	id=$(t_hex64) uid=$(t_uuid)
	crash_in "$CG2" "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$id.scope" "$m-k8s-ctrd"
	expect "$m containerd pod (systemd driver)" containerd "$id" "$uid" pods stored

	id=$(t_hex64) uid=$(t_uuid)
	crash_in "$CG2" "kubepods.slice/kubepods-pod${uid//-/_}.slice/crio-$id.scope" "$m-k8s-crio"
	expect "$m cri-o guaranteed pod" cri-o "$id" "$uid" pods stored

	id=$(t_hex64) uid=$(t_uuid)
	crash_in "$CG2" "kubepods/besteffort/pod$uid/$id" "$m-k8s-cgfs"
	expect "$m kubelet cgroupfs driver" cri "$id" "$uid" pods stored

	id=$(t_hex64)
	crash_in "$CG2" "machine.slice/libpod-$id.scope" "$m-podman"
	expect "$m podman" podman "$id" none containers stored

	crash_in "$CG2" "machine.slice/systemd-nspawn@box$m.service/payload" "$m-nspawn"
	expect "$m systemd-nspawn" nspawn "box$m" none containers stored

	crash_in "$CG2" "lxc.payload.web$m" "$m-lxc"
	expect "$m lxc" lxc "web$m" none no-lxc rejected
	# Only "@@" can refuse a dump before it is written; "@" can only stop the stream.
	[ "$m" = req ] && t_is "$(t_kv -t "$out" coredump)" 0 "$m lxc: rejected crash has no core in its wait status"
	t_ok "$m lxc: nothing stored" bash -c "! grep -l '\"comm\":\"$m-lxc\"' '$d'/store/*.json 2>/dev/null"

	id=$(t_hex64) uid=$(t_uuid)
	crash_in "$CG2" "kubepods.slice/kubepods-pod${uid//-/_}.slice/crio-conmon-$id.scope" "$m-conmon"
	expect "$m cri-o monitor (conmon)" null "" "" host stored

	# Runtimes on cgroup v1 only: the process stays in the cgroup2 root.
	if [ -d "$CG1_SYSTEMD" ]; then
		id=$(t_hex64)
		crash_in "$CG1_SYSTEMD" "docker/$id" "$m-v1-dock"
		expect "$m docker on cgroup v1" docker "$id" none containers stored
		t_is "$(t_jq "$ev" .cgroup)" "/docker/$id" "$m docker on cgroup v1: cgroup from the v1 line"

		id=$(t_hex64) uid=$(t_uuid)
		crash_in "$CG1_SYSTEMD" "kubepods/burstable/pod$uid/$id" "$m-v1-k8s"
		expect "$m kubelet on cgroup v1" cri "$id" "$uid" pods stored
	fi
}

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request "$routes"
t_ok "daemon starts (request)" t_proxy_start "$d"
run_layouts req
t_proxy_stop

t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain "$routes"
t_ok "daemon starts (plain)" t_proxy_start "$d"
run_layouts pln
t_proxy_stop
t_done
