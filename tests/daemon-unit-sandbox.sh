#!/bin/bash
# The daemon under coredump-proxy.service's sandbox, as far as it applies
# without systemd as PID 1 (issue 13): socket-activated, in a mount namespace
# of its own (the one PrivateTmp=/ProtectHome= give, from which the kernel
# refuses a socket pattern: the pattern is installed from outside with
# `install-pattern`), every mount read-only but its directory
# (ProtectSystem=strict with ReadWritePaths=), /proc/sys and /sys read-only
# (ProtectKernelTunables=, ProtectControlGroups=), /home and /root hidden
# (ProtectHome=), the unit's CapabilityBoundingSet= and NoNewPrivileges=. It
# still forwards into a pod (setns), stores a host dump, counts (the proc
# connector's buffer needs CAP_NET_ADMIN at start-up) and serves status.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv python3 timeout
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}
]'
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$top_srcdir/contrib/systemd/coredump-proxy.service.in")
t_ok "the unit has a capability bounding set" test -n "$bounding"
# setpriv's spelling: -all,+sys_admin,...
caps=-all$(for c in $bounding; do printf ',+%s' "$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done)

# Inside the daemon's new mount namespace, before it runs (the same pid throughout: LISTEN_PID).
cat >"$d/sandbox.sh" <<'SH'
d=$1 caps=$2
shift 2
mount --bind "$d" "$d" || exit 1
for mp in $(awk '{ print $5 }' /proc/self/mountinfo | sort -u); do
	case $mp in /proc | /proc/* | /dev | /dev/* | "$d") continue ;; esac
	mount -o remount,bind,ro "$mp" 2>/dev/null
done
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 1
for h in /home /root; do
	[ -d "$h" ] && { mount -t tmpfs -o ro,mode=000 tmpfs "$h" || exit 1; }
done
exec setpriv --bounding-set "$caps" --no-new-privs -- \
	sh -c 'sed -n "s/^CapBnd:\t*//p" /proc/self/status >"$0/capbnd" && exec "$@"' "$d" "$@"
SH
# The activator, in systemd's place: holds the socket, passes it as fd 3.
python3 - "$d" "$caps" "$T_PROXY" >"$d/proxy.out" 2>"$d/proxy.err" <<'PY' &
import os, socket, sys
d, caps, proxy = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(d + "/kernel.sock"); s.listen(4096)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid()); os.environ["LISTEN_FDS"] = "1"
os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "--", "sh", d + "/sandbox.sh", d, caps,
                      proxy, "--config", d + "/config.json", "--log-level", "debug"])
PY
T_PROXY_PID=$!
t_track_pid "$T_PROXY_PID"
t_wait_for 15 grep -qs "listening on" "$d/proxy.err" || t_diag "$(tail -n 5 "$d/proxy.err")"
t_like "$(cat "$d/proxy.err")" "socket-activated: serving the passed socket" "the sandboxed daemon serves the passed socket"
t_ok "the pattern is installed from outside" "$T_PROXY" install-pattern --config "$d/config.json"
daemon=$(t_proxy_daemon)

# ---- the restrictions are in force
t_ok "the daemon runs in a mount namespace of its own" \
	test "$(stat -L -c %i /proc/self/ns/mnt)" != "$(stat -L -c %i "/proc/$T_PROXY_PID/ns/mnt")"
t_is "$(sed -n 's/^NoNewPrivs:\t*//p' "/proc/$T_PROXY_PID/status")" 1 "the keeper has no_new_privs"
t_ok "outside its directory the file system is read-only for it" \
	sh -c "! nsenter -t $T_PROXY_PID -m -- touch /var/cdp-sandbox-probe 2>/dev/null"
t_ok "... and /proc/sys too" sh -c "! nsenter -t $T_PROXY_PID -m -- sh -c 'echo 0 > /proc/sys/kernel/core_pipe_limit' 2>/dev/null"
# CAP_SYS_ADMIN 21, SYS_PTRACE 19, DAC_READ_SEARCH 2, DAC_OVERRIDE 1, KILL 5, NET_ADMIN 12, SETPCAP 8
t_is "$(cat "$d/capbnd")" "$(printf '%016x' $(((1 << 21) | (1 << 19) | (1 << 2) | (1 << 1) | (1 << 5) | (1 << 12) | (1 << 8))))" \
	"the daemon started with exactly the unit's bounding set"
t_unlike() { ! [[ $1 =~ $2 ]]; }
t_ok "lost-dump accounting works" t_unlike "$(cat "$d/proxy.err")" "accounting off|no proc connector"

# ---- a host dump is stored
(cd "$d" && exec "$T_HELPERS/cdp-crasher" --name sbx-host) >"$d/host.out"
ev=$(t_event "$d" sbx-host)
t_is "$(t_jq "$ev" .outcome)" stored "a host dump is stored"
t_ok "its core is in the store" test -s "$(t_jq "$ev" .core)"

# ---- a pod's dump is forwarded into its network namespace
pod_uid=$(t_uuid)
pod_cg="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod_uid//-/_}.slice"
t_cgroup_make "$CG2" "$pod_cg/cri-containerd-$(t_hex64).scope" && t_container_start "$T_CG"
holder=$T_HOLDER
t_cgroup_make "$CG2" "$pod_cg/cri-containerd-$(t_hex64).scope" && side_cg=$T_CG
t_cgroup_make "$CG2" "$pod_cg/cri-containerd-$(t_hex64).scope" && app_cg=$T_CG
mkdir -p "$d/pod"
t_container_run "$holder" "$side_cg" "$T_COLLECTOR" --dir "$d/pod" 2>"$d/pod.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/pod.log"
t_container_run "$holder" "$app_cg" "$T_HELPERS/cdp-crasher" --name sbx-app >"$d/app.out"
ev=$(t_event "$d" sbx-app)
t_is "$(t_jq "$ev" .outcome)" delivered "a pod's dump is forwarded to its collector (setns)"
t_ok "the collector has the core" test "$(ls "$d/pod" | grep -c '\.core\.zst$')" -eq 1

# ---- status from outside, over the control socket
st=$("$T_PROXY" status --config "$d/config.json")
t_is "$(t_jq "$st" .accepted)" 2 "status answers and counts both dumps"

kill -TERM "$T_PROXY_PID"
t_wait_for 40 t_gone "$T_PROXY_PID"
wait "$T_PROXY_PID"
t_is "$?" 0 "the daemon exits 0"
t_ok "it left the socket it did not create" test -S "$d/kernel.sock"
t_done
