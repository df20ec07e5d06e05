#!/bin/bash
# Names from the runtimes' own state files: containerd (k8s.io and moby
# namespaces), CRI-O and podman (containers/storage), docker, nspawn and LXC,
# each pointed at by the config and matched with a simulated container whose
# cgroup is named like the runtime's. The event line and the host's <id>.json
# carry the names; routes select on them (a label opts a container in, a pod
# namespace is rejected), in both socket modes; files that are oversized,
# truncated or hostile, and a container deleted between its crash and the
# lookup, cost a dump its names and nothing else; status lists the known
# containers and forgets the gone ones.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save

routes='[
  {"name":"opted-in","match":{"labels":{"coredump":"enabled"}},"action":"store"},
  {"name":"no-kube-system","match":{"pod_namespace":"kube-system"},"action":"reject"},
  {"name":"by-image","match":{"image":"*/busybox:*","container_name":"side*"},"action":"store"},
  {"name":"containers","match":{"container":true},"action":"store"},
  {"name":"host","match":{},"action":"store"}
]'

# names_config DIR: the names section pointing every runtime at DIR's state trees.
names_config() {
	cat <<JSON
"names": {
    "labels": ["app", "team"],
    "annotations": ["example.com/owner"],
    "containerd": { "state": "$1/containerd", "namespaces": ["k8s.io", "moby"] },
    "storage": { "graph_root": "$1/storage", "run_root": "$1/storage-run" },
    "docker": { "data_root": "$1/docker" }
  }
JSON
}

# ---- real-shaped state files ---------------------------------------------------

# containerd_bundle STATE NS ID JQ-ANNOTATIONS: a task bundle's config.json as containerd keeps it.
containerd_bundle() {
	local dir="$1/containerd/io.containerd.runtime.v2.task/$2/$3"
	mkdir -p "$dir"
	printf '%s' "$4" | jq '. as $a | {ociVersion: "1.0.2-dev", process: {args: ["/pause"], cwd: "/"},
	  root: {path: "rootfs"}, mounts: [{destination: "/proc", type: "proc", source: "proc"}],
	  annotations: $a, linux: {cgroupsPath: "kubepods-besteffort.slice:cri-containerd:x",
	  namespaces: [{type: "pid"}, {type: "network"}],
	  seccomp: {defaultAction: "SCMP_ACT_ERRNO", syscalls: [{names: ["read", "write"], action: "SCMP_ACT_ALLOW"}]}}}' \
		>"$dir/config.json"
}

# docker_config STATE ID NAME IMAGE JQ-LABELS: docker's config.v2.json.
docker_config() {
	local dir="$1/docker/containers/$2"
	mkdir -p "$dir"
	jq -n --arg id "$2" --arg name "/$3" --arg image "$4" --argjson labels "$5" '{StreamConfig: {},
	  State: {Running: true, Pid: 4242, StartedAt: "2026-12-02T10:00:00Z"}, ID: $id, Created: "2026-12-02T10:00:00Z",
	  Managed: false, Path: "sh", Args: ["-c", "sleep 1"], Config: {Hostname: "abc", Env: ["PATH=/usr/bin"],
	  Cmd: ["sh"], Image: $image, Labels: $labels}, Image: "sha256:0123", NetworkSettings: {Networks: {}},
	  LogPath: "", Name: $name, Driver: "overlay2", RestartCount: 0}' >"$dir/config.v2.json"
}

# storage_container STATE ID JQ-NAMES METADATA-JSON: one entry of containers/storage's containers.json.
storage_container() {
	local f="$1/storage/overlay-containers/containers.json"
	mkdir -p "${f%/*}"
	[ -s "$f" ] || echo '[]' >"$f"
	jq --arg id "$2" --argjson names "$3" --arg md "$4" \
		'. + [{id: $id, names: $names, image: "0123", layer: "4567", metadata: $md, created: "2026-12-02T10:00:00Z",
		  flags: {MountLabel: "", ProcessLabel: ""}}]' "$f" >"$f.new" && mv "$f.new" "$f"
}

# storage_spec ROOT ID JQ-ANNOTATIONS: a container's userdata/config.json under a graph or run root.
storage_spec() {
	local dir="$1/overlay-containers/$2/userdata"
	mkdir -p "$dir"
	jq -n --argjson a "$3" '{ociVersion: "1.0.2-dev", process: {args: ["sh"]}, annotations: $a}' >"$dir/config.json"
}

# ---- simulated containers --------------------------------------------------------

# crash_in REL COMM: a container in cgroup REL; crashes COMM inside; sets ev, cg.
crash_in() {
	ev=""
	t_cgroup_make "$CG2" "$1" || return 1
	cg=$T_CG
	t_container_start "$cg" || return 1
	t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name "$2" >/dev/null
	ev=$(t_event "$d" "$2")
}

meta() { jq -r "$2" "$d/store/$(t_jq "$1" .id).json"; } # meta EVENT FILTER: from the host's <id>.json

run_mode() { # run_mode MODE PREFIX
	local m=$1 p=$2 id uid s

	# containerd, Kubernetes (k8s.io), systemd driver
	id=$(t_hex64) uid=$(t_uuid)
	containerd_bundle "$S" k8s.io "$id" "$(jq -n --arg uid "$uid" '{"io.kubernetes.cri.container-type": "container",
	  "io.kubernetes.cri.container-name": "web", "io.kubernetes.cri.sandbox-name": "shop-7d9c",
	  "io.kubernetes.cri.sandbox-namespace": "shop", "io.kubernetes.cri.sandbox-uid": $uid,
	  "io.kubernetes.cri.image-name": "registry.example/shop/web:1.4", "example.com/owner": "team-a",
	  "example.com/secret": "hunter2"}')"
	crash_in "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice/cri-containerd-$id.scope" "$p-ctrd"
	t_is "$(t_jq "$ev" .container.name)" web "$m containerd k8s.io: container name"
	t_is "$(t_jq "$ev" .container.pod.name)" shop-7d9c "$m containerd k8s.io: pod name"
	t_is "$(t_jq "$ev" .container.pod.namespace)" shop "$m containerd k8s.io: pod namespace"
	t_is "$(t_jq "$ev" .container.pod.uid)" "$uid" "$m containerd k8s.io: pod uid"
	t_is "$(t_jq "$ev" .container.image)" registry.example/shop/web:1.4 "$m containerd k8s.io: image"
	t_is "$(t_jq "$ev" '.container.annotations["example.com/owner"]')" team-a "$m containerd k8s.io: an allowed annotation"
	t_is "$(t_jq "$ev" '.container.annotations["example.com/secret"] // "absent"')" absent \
		"$m containerd k8s.io: an annotation the config does not name stays on the node"
	t_is "$(meta "$ev" .container.pod.namespace)" shop "$m containerd k8s.io: the host's <id>.json has the names"
	t_is "$(meta "$ev" '.container.annotations["example.com/secret"] // "absent"')" absent \
		"$m containerd k8s.io: nor does the host's <id>.json carry it"

	# a pod in kube-system: the route rejects it by its namespace
	id=$(t_hex64) uid=$(t_uuid)
	containerd_bundle "$S" k8s.io "$id" "$(jq -n --arg uid "$uid" '{"io.kubernetes.cri.container-name": "coredns",
	  "io.kubernetes.cri.sandbox-name": "coredns-5d78", "io.kubernetes.cri.sandbox-namespace": "kube-system",
	  "io.kubernetes.cri.sandbox-uid": $uid}')"
	crash_in "kubepods/burstable/pod$uid/$id" "$p-kubesys"
	t_is "$(t_jq "$ev" .route)" no-kube-system "$m kube-system: the namespace-rejected route"
	t_is "$(t_jq "$ev" .outcome)" rejected "$m kube-system: rejected"
	t_is "$(t_jq "$ev" .container.runtime)" cri "$m kube-system: kubelet's cgroupfs driver names no runtime"

	# docker, with its containerd task bundle in the moby namespace
	id=$(t_hex64)
	docker_config "$S" "$id" "shop-web-1" "nginx:1.25" '{"coredump": "enabled", "app": "shop", "com.example.token": "x"}'
	containerd_bundle "$S" moby "$id" '{"example.com/owner": "team-d"}'
	crash_in "system.slice/docker-$id.scope" "$p-docker"
	t_is "$(t_jq "$ev" .container.name)" shop-web-1 "$m docker: name without docker's leading slash"
	t_is "$(t_jq "$ev" .container.image)" nginx:1.25 "$m docker: image"
	t_is "$(t_jq "$ev" .container.labels.app)" shop "$m docker: an allowed label"
	t_is "$(t_jq "$ev" '.container.labels.coredump // "absent"')" absent \
		"$m docker: a label only a route names selects, and stays on the node"
	t_is "$(t_jq "$ev" '.container.labels["com.example.token"] // "absent"')" absent "$m docker: other labels stay"
	t_is "$(t_jq "$ev" '.container.annotations["example.com/owner"]')" team-d "$m docker: moby bundle's annotation"
	t_is "$(t_jq "$ev" .route)" opted-in "$m docker: the label-selected route"

	# the same label without the opt-in value: not selected
	id=$(t_hex64)
	docker_config "$S" "$id" "other" "nginx:1.25" '{"coredump": "disabled"}'
	crash_in "docker/$id" "$p-dock-no"
	t_is "$(t_jq "$ev" .route)" containers "$m docker, label not matching: the next route"

	# CRI-O: containers/storage with the kubelet's keys in CRI-O's labels, pod labels on the sandbox
	id=$(t_hex64) uid=$(t_uuid) s=$(t_hex64)
	storage_container "$S" "$id" "[\"k8s_api_billing-6f_pay_${uid}_0\"]" \
		"$(jq -cn --arg uid "$uid" '{"pod-name": "billing-6f", "pod-id": "x", "image-name": "quay.io/pay/api:2",
		  "image-id": "1", name: ("k8s_api_billing-6f_pay_" + $uid + "_0"), "metadata-name": "api", "created-at": 1}')"
	storage_spec "$S/storage-run" "$id" "$(jq -n --arg uid "$uid" --arg s "$s" '{"io.kubernetes.cri-o.SandboxID": $s,
	  "io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.ImageName": "quay.io/pay/api:2",
	  "io.kubernetes.cri-o.Labels": ({"io.kubernetes.container.name": "api", "io.kubernetes.pod.name": "billing-6f",
	    "io.kubernetes.pod.namespace": "pay", "io.kubernetes.pod.uid": $uid} | tojson)}')"
	storage_spec "$S/storage" "$s" '{"io.kubernetes.cri-o.ContainerType": "sandbox",
	  "io.kubernetes.cri-o.Labels": "{\"team\":\"payments\",\"coredump\":\"enabled\"}"}'
	crash_in "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/crio-$id.scope" "$p-crio"
	t_is "$(t_jq "$ev" .container.name)" api "$m cri-o: container name"
	t_is "$(t_jq "$ev" .container.pod.name)" billing-6f "$m cri-o: pod name"
	t_is "$(t_jq "$ev" .container.pod.namespace)" pay "$m cri-o: pod namespace"
	t_is "$(t_jq "$ev" .container.image)" quay.io/pay/api:2 "$m cri-o: image"
	t_is "$(t_jq "$ev" .container.labels.team)" payments "$m cri-o: the pod's label, from its sandbox"
	t_is "$(t_jq "$ev" .route)" opted-in "$m cri-o: a pod labelled coredump=enabled selects the route"

	# podman: the name only in containers.json
	id=$(t_hex64)
	storage_container "$S" "$id" '["db-primary"]' '{"image-name":"docker.io/library/busybox:1.36","image-id":"","name":"db-primary","created-at":1}'
	storage_spec "$S/storage" "$id" '{"io.container.manager": "libpod"}'
	crash_in "machine.slice/libpod-$id.scope" "$p-podman"
	t_is "$(t_jq "$ev" .container.name)" db-primary "$m podman: name from containers.json"
	t_is "$(t_jq "$ev" .container.image)" docker.io/library/busybox:1.36 "$m podman: image from its metadata"

	# nspawn and LXC: the name is the cgroup's
	crash_in "machine.slice/machine-box$p.scope/payload" "$p-nspawn"
	t_is "$(t_jq "$ev" .container.name)" "box$p" "$m nspawn: machine name"
	crash_in "lxc.payload.web$p" "$p-lxc"
	t_is "$(t_jq "$ev" .container.name)" "web$p" "$m lxc: container name"
}

t_tmpdir
d=$T_TMP S=$T_TMP/state
mkdir -p "$S"
t_proxy_config "$d" request "$routes" "$(names_config "$S")"
t_ok "daemon starts (request)" t_proxy_start "$d"
run_mode request rq

# ---- hostile and broken files -------------------------------------------------
hostile() { # hostile NAME COMM: a docker container whose config.v2.json is what the caller wrote to $f
	crash_in "system.slice/docker-$hid.scope" "$2"
	t_is "$(t_jq "$ev" .outcome)" stored "$1: the dump is stored all the same"
	t_is "$(t_jq "$ev" '.container.name // "none"')" none "$1: no name"
}
new_hostile() { hid=$(t_hex64); mkdir -p "$S/docker/containers/$hid"; f=$S/docker/containers/$hid/config.v2.json; }

new_hostile && head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$f" && echo '{"Name":"/big"}' >>"$f"
hostile "oversized config.v2.json" h-big
new_hostile && printf '{"Name":"/trunc","Config":{"Image":"x' >"$f"
hostile "truncated config.v2.json" h-trunc
new_hostile && { printf '{"Name":"/deep","x":'; printf '[%.0s' $(seq 1 5000); printf ']%.0s' $(seq 1 5000); echo '}'; } >"$f"
hostile "nested 5000 deep" h-deep
new_hostile && printf '{"Name":"/nul\\u0000byte"}' >"$f"
hostile "a NUL in the name" h-nul
new_hostile && printf '{"Name":"/ctl\\u001b[31mred"}' >"$f"
hostile "a control character in the name" h-ctl
new_hostile && printf '{"Name":"/\xc0\xafoverlong"}' >"$f"
hostile "invalid UTF-8" h-utf8
new_hostile && printf '{"Name":["/list"],"Config":"string"}' >"$f"
hostile "wrong types" h-types
new_hostile && rm -d "${f%/*}" && mkdir -p "${f%/*}" && mkfifo "$f"
hostile "a FIFO where the file should be" h-fifo
new_hostile && printf '{"Name":"/shadow"}' >"$d/target.json" && ln -s "$d/target.json" "$f"
hostile "a symlink where the file should be" h-link
hid=$(t_hex64)
containerd_bundle "$S" moby "$hid" "$(jq -n '[range(0; 20000) | {key: ("k\(.)"), value: "v"}] | from_entries')"
crash_in "system.slice/docker-$hid.scope" h-many
t_is "$(t_jq "$ev" .outcome)" stored "20000 annotations: stored"
t_ok "20000 annotations: the daemon still runs" kill -0 "$T_PROXY_PID"

# ---- status lists the containers; gone ones leave it --------------------------
st=$("$T_PROXY" status --config "$d/config.json")
t_ok "status lists the containers it knows" \
	test "$(jq '[.containers[] | select(.name == "web")] | length' <<<"$st")" -ge 1
t_is "$(jq -r '[.containers[] | select(.name == "boxrq")][0].runtime' <<<"$st")" nspawn "status: runtime and name"
# The last container crashed was h-many's; the one before, LXC's "webrq" at $cg... remove podman's.
pod_cg=$(ls -d "$CG2"/machine.slice/libpod-*.scope | head -n 1)
pod_id=${pod_cg##*/libpod-}
pod_id=${pod_id%.scope}
for pid in $(cat "$pod_cg/cgroup.procs"); do kill -KILL "$pid"; done
t_wait_for 10 t_cgroup_remove "$pod_cg"
st=$("$T_PROXY" status --config "$d/config.json")
t_is "$(jq "[.containers[] | select(.id == \"$pod_id\")] | length" <<<"$st")" 0 \
	"status: a container whose cgroup is gone is forgotten"
t_proxy_stop

# ---- a container deleted between its crash and the lookup ------------------------
CDP_FAULT=names-lookup-delay:4000 t_proxy_start "$d" # the state goes 0.5 s after the crash: 3.5 s of slack
id=$(t_hex64)
docker_config "$S" "$id" "short-lived" "busybox" '{}'
t_cgroup_make "$CG2" "system.slice/docker-$id.scope" && cg=$T_CG
t_container_start "$cg"
t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name gone-ct >/dev/null &
crasher=$!
sleep 0.5
rm -rf "$S/docker/containers/$id"
wait "$crasher"
ev=$(t_event "$d" gone-ct)
t_is "$(t_jq "$ev" .outcome)" stored "deleted before the lookup: stored"
t_is "$(t_jq "$ev" '.container.name // "none"')" none "deleted before the lookup: no name, no error"
t_is "$(t_jq "$ev" .container.id)" "$id" "deleted before the lookup: identity from the cgroup"
t_proxy_stop

# ---- plain mode: the same names and routes ----------------------------------------
t_tmpdir
d=$T_TMP S=$T_TMP/state
mkdir -p "$S"
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain "$routes" "$(names_config "$S")"
t_ok "daemon starts (plain)" t_proxy_start "$d"
run_mode plain pl
t_proxy_stop

t_ok "check-config takes the names keys" "$T_PROXY" check-config "$d/config.json"
t_done
