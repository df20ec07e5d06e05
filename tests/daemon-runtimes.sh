#!/bin/bash
# Names from the real runtimes' own state, each started here with its state
# under a temporary directory (../shared/reference/testing.md's recipes):
# podman 4.3 with runc (containers.json), docker 20.10 with containerd 1.6
# (config.v2.json, and a label that selects a route), containerd alone
# through ctr in the k8s.io namespace (the task bundle's CRI annotations),
# LXC 5.0 and systemd-nspawn (the cgroup's name). podman also runs
# coredump-proxy-hook from contrib/hooks/hooks.d: registered while the
# container runs, gone after. About 15 s here.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare busybox podman runc dockerd containerd ctr lxc-start systemd-nspawn
[ -x /usr/bin/docker ] || t_skip_all "needs Debian's docker.io (/usr/bin/docker)"
t_core_pattern_save

routes='[
  {"name":"opted-in","match":{"labels":{"coredump":"enabled"}},"action":"store"},
  {"name":"containers","match":{"container":true},"action":"store"},
  {"name":"host","match":{},"action":"store"}
]'
t_tmpdir
d=$T_TMP S=$T_TMP/state
mkdir -p "$S"
t_rootfs "$d/rootfs" || t_skip_all "cannot make a root filesystem"
CRASHER="$T_HELPERS/cdp-crasher"

# Cgroups the runtimes make for themselves, on every hierarchy: removed at exit unless they were there.
for h in "$CG2" /sys/fs/cgroup/*/; do
	h=${h%/}
	[ -d "$h" ] || continue
	for top in docker kubepods libpod_parent lxc.pivot lxc.payload.cdp-lxc lxc.monitor.cdp-lxc machine.slice; do
		[ -e "$h/$top" ] && continue
		t_at_exit "[ -d '$h/$top' ] && find '$h/$top' -depth -type d -exec rmdir {} \\; 2>/dev/null"
	done
done
t_at_exit "rm -rf /run/systemd/nspawn/propagate/cdp-nspawn /run/lxc/lock/$d"
# dockerd bind-mounts its data root onto itself: a daemon killed at exit leaves it mounted.
t_at_exit "awk -v d='$d/' 'index(\$5, d) == 1 { print \$5 }' /proc/self/mountinfo | sort -r | xargs -r -n 1 umount -l"

t_proxy_config "$d" request "$routes" "\"names\": {
    \"containerd\": { \"state\": \"$S/ctd/state\", \"namespaces\": [\"k8s.io\", \"moby\"] },
    \"storage\": { \"graph_root\": \"$S/podman/storage\", \"run_root\": \"$S/podman/run\" },
    \"docker\": { \"data_root\": \"$S/docker\" } }"
t_ok "daemon starts" t_proxy_start "$d"
status() { "$T_PROXY" status --config "$d/config.json"; }

# ---- podman 4.3 (runc), with the hook from contrib/hooks/hooks.d -------------------
mkdir -p "$d/hooks.d" "$d/pm"
for f in "$top_srcdir"/contrib/hooks/hooks.d/*.json; do
	jq --arg p "$top_builddir/coredump-proxy-hook" --arg c "$d/config.json" \
		'.hook.path = $p | .hook.args = [.hook.args[0], "--config", $c, .hook.args[-1]]' "$f" >"$d/hooks.d/${f##*/}"
done
pm() {
	podman --root "$S/podman/storage" --runroot "$S/podman/run" --tmpdir "$S/podman/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc --hooks-dir "$d/hooks.d" "$@"
}
start=$EPOCHREALTIME
pm run -d --name cdp-pm-box --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	-v /usr:/usr:ro -v "$top_builddir:$top_builddir:ro" -v "$d/pm:/x" --rootfs "$d/rootfs" \
	sh -c "$CRASHER --name pm-crash >/x/out; while [ ! -e /x/stop ]; do sleep 0.1; done" >"$d/pm.id" 2>"$d/pm.err"
pm_id=$(cat "$d/pm.id")
ev=$(t_event "$d" pm-crash)
t_is "$(t_jq "$ev" .container.runtime)" podman "podman: runtime from the cgroup"
t_is "$(t_jq "$ev" .container.id)" "$pm_id" "podman: the container's id"
t_is "$(t_jq "$ev" .container.name)" cdp-pm-box "podman: its name, from containers.json"
t_ok "podman: the hooks.d hook registered it" \
	t_wait_for 5 bash -c "$T_PROXY status --config $d/config.json | jq -e '[.containers[] | select(.id == \"$pm_id\" and .source == \"hook\")] | length == 1' >/dev/null"
touch "$d/pm/stop"
pm wait cdp-pm-box >/dev/null 2>&1
t_ok "podman: poststop unregistered it" \
	t_wait_for 10 bash -c "$T_PROXY status --config $d/config.json | jq -e '[.containers[] | select(.id == \"$pm_id\" and .source == \"hook\")] | length == 0' >/dev/null"
pm rm -f cdp-pm-box >/dev/null 2>&1
t_diag "podman: $(t_elapsed "$start") s"

# ---- docker 20.10 with containerd 1.6 -------------------------------------------------
start=$EPOCHREALTIME
mkdir -p "$S/ctd" "$S/docker" "$S/exec"
cat >"$S/ctd.toml" <<TOML
version = 2
root = "$S/ctd/root"
state = "$S/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$S/ctd/sock"
[ttrpc]
  address = "$S/ctd/sock.ttrpc"
[debug]
  address = "$S/ctd/debug.sock"
TOML
containerd -c "$S/ctd.toml" >"$d/containerd.log" 2>&1 &
containerd_pid=$!
t_track_pid $!
t_wait_for 10 test -S "$S/ctd/sock" || t_diag "containerd: $(tail -n 3 "$d/containerd.log")"
dockerd --data-root "$S/docker" --exec-root "$S/exec" -H "unix://$S/docker.sock" --pidfile "$S/docker.pid" \
	--containerd "$S/ctd/sock" --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
	--exec-opt native.cgroupdriver=cgroupfs --storage-driver vfs >"$d/dockerd.log" 2>&1 &
t_track_pid $!
dk() { /usr/bin/docker -H "unix://$S/docker.sock" "$@"; }
dk_up() { dk info >/dev/null 2>&1; }
t_ok "docker: dockerd answers" t_wait_for 20 dk_up
tar -C "$d/rootfs" -c . | dk import - cdp-rootfs:test >/dev/null
dk run --name cdp-dk-box --label coredump=enabled --label app=shop --network none \
	-v /usr:/usr:ro -v "$top_builddir:$top_builddir:ro" cdp-rootfs:test "$CRASHER" --name dk-crash >/dev/null 2>&1
ev=$(t_event "$d" dk-crash)
t_is "$(t_jq "$ev" .container.runtime)" docker "docker: runtime from the cgroup"
t_is "$(t_jq "$ev" .container.name)" cdp-dk-box "docker: its name, from config.v2.json"
t_is "$(t_jq "$ev" .container.image)" cdp-rootfs:test "docker: its image"
t_is "$(t_jq "$ev" .container.labels.app)" shop "docker: an allowed label"
t_is "$(t_jq "$ev" .route)" opted-in "docker: the label coredump=enabled selects the route"
dk rm -f cdp-dk-box >/dev/null 2>&1
t_diag "docker: $(t_elapsed "$start") s"
dockerd_pid=$(cat "$S/docker.pid")

# ---- containerd alone, through ctr, as Kubernetes' CRI would name a pod's container ----
start=$EPOCHREALTIME
id=$(t_hex64) uid=$(t_uuid)
ctr -a "$S/ctd/sock" -n k8s.io run --rm --cgroup "/kubepods/besteffort/pod$uid/$id" \
	--mount type=bind,src=/usr,dst=/usr,options=rbind:ro \
	--mount "type=bind,src=$top_builddir,dst=$top_builddir,options=rbind:ro" \
	--annotation io.kubernetes.cri.container-name=cart --annotation io.kubernetes.cri.sandbox-name=cart-0 \
	--annotation io.kubernetes.cri.sandbox-namespace=store --annotation "io.kubernetes.cri.sandbox-uid=$uid" \
	--annotation io.kubernetes.cri.image-name=registry.example/cart:3 \
	--rootfs "$d/rootfs" "$id" "$CRASHER" --name ctr-crash >/dev/null 2>"$d/ctr.err"
ev=$(t_event "$d" ctr-crash)
t_is "$(t_jq "$ev" .container.id)" "$id" "ctr: the container's id"
t_is "$(t_jq "$ev" .container.name)" cart "ctr: container name from the task bundle"
t_is "$(t_jq "$ev" .container.pod.name)" cart-0 "ctr: pod name"
t_is "$(t_jq "$ev" .container.pod.namespace)" store "ctr: pod namespace"
t_is "$(t_jq "$ev" .container.pod.uid)" "$uid" "ctr: pod uid"
t_is "$(t_jq "$ev" .container.image)" registry.example/cart:3 "ctr: image"
t_diag "containerd: $(t_elapsed "$start") s"

# ---- LXC 5.0 ----------------------------------------------------------------------
start=$EPOCHREALTIME
mkdir -p "$d/lxc/cdp-lxc" "$d/lxc-run"
printf '%s --name lxc-crash\n' "$CRASHER" >"$d/lxc-run/run.sh"
cat >"$d/lxc/cdp-lxc/config" <<CONF
lxc.uts.name = cdp-lxc
lxc.rootfs.path = dir:$d/rootfs
lxc.mount.entry = /usr usr none ro,bind 0 0
lxc.mount.entry = $top_builddir ${top_builddir#/} none ro,bind,create=dir 0 0
lxc.mount.entry = $d/lxc-run cdp-run none bind,create=dir 0 0
lxc.mount.auto = proc:rw sys:ro
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.console.path = none
lxc.init.cmd = /bin/sh /cdp-run/run.sh
CONF
lxc-start -n cdp-lxc -P "$d/lxc" -f "$d/lxc/cdp-lxc/config" -F -o "$d/lxc.log" </dev/null >/dev/null 2>&1
ev=$(t_event "$d" lxc-crash)
t_is "$(t_jq "$ev" .container.runtime)" lxc "lxc: runtime from the cgroup"
t_is "$(t_jq "$ev" .container.name)" cdp-lxc "lxc: the container's name"
t_diag "lxc: $(t_elapsed "$start") s"

# ---- systemd-nspawn 252 -------------------------------------------------------------
start=$EPOCHREALTIME
for h in "$CG2" "$CG1_SYSTEMD"; do
	[ -d "$h" ] && mkdir -p "$h/machine.slice/machine-cdp-nspawn.scope"
done
R="$d/rootfs" B="$top_builddir" C="$CRASHER" sh -c 'for h in "$@"; do [ -d "$h" ] && echo $$ >"$h/machine.slice/machine-cdp-nspawn.scope/cgroup.procs"; done
	exec systemd-nspawn -q --register=no --keep-unit -D "$R" -M cdp-nspawn --private-network \
		--bind-ro=/usr --bind-ro="$B" "$C" --name nspawn-crash' nspawn "$CG2" "$CG1_SYSTEMD" \
	</dev/null >"$d/nspawn.out" 2>&1
ev=$(t_event "$d" nspawn-crash)
t_is "$(t_jq "$ev" .container.runtime)" nspawn "nspawn: runtime from the cgroup"
t_is "$(t_jq "$ev" .container.name)" cdp-nspawn "nspawn: the machine's name"
t_diag "nspawn: $(t_elapsed "$start") s"

# Stopped as they would be, so that they clean up after themselves.
kill -TERM "$dockerd_pid" 2>/dev/null && t_wait_for 10 bash -c "! kill -0 $dockerd_pid 2>/dev/null"
kill -TERM "$containerd_pid" 2>/dev/null && t_wait_for 10 bash -c "! kill -0 $containerd_pid 2>/dev/null"
t_proxy_stop
t_done
