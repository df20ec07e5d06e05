#!/bin/bash
# The daemon in a pod (a DaemonSet with hostPID, the socket directory a
# hostPath at the same path): it runs in a mount namespace of its own, where
# the kernel refuses a socket core_pattern (EINVAL), and writes it from the
# host's mount namespace through a writer of its keeper's. Crashes are
# routed; SIGTERM restores. Without the host's pid namespace (no hostPID) or
# without the capabilities to enter it, it says so at start.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq unshare
t_require_fault_injection
t_core_pattern_save

marker='|/bin/false cdp-pod %p'
t_core_pattern_set "$marker"

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'

# The pod: a mount namespace of its own; the socket directory mounted at the same path.
T_PROXY_WRAP=(unshare -m -- sh -c 'mount --bind "$0" "$0" && exec "$@"' "$d")
t_ok "daemon starts in a mount namespace of its own" t_proxy_start "$d"
T_PROXY_WRAP=()
t_ok "it is not in our mount namespace" \
	test "$(stat -L -c %i "/proc/$T_PROXY_PID/ns/mnt")" != "$(stat -L -c %i /proc/self/ns/mnt)"
t_ok "it says how it writes core_pattern" \
	grep -q "outside the host's mount namespace: core_pattern is written from the host's" "$d/proxy.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the pattern is installed"
"$T_HELPERS/cdp-crasher" --name pod-crash >/dev/null
ev=$(t_event "$d" pod-crash)
t_is "$(t_jq "$ev" .outcome)" stored "a crash is delivered"
t_ok "SIGTERM stops it" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGTERM: the previous pattern is back"
t_is "$(pgrep -f -- "--config $d/config.json" | wc -l)" 0 "no writer is left behind"

# No hostPID: the host's mount namespace is out of reach. Said at start; core_pattern untouched.
unshare -m -p -f --mount-proc -- "$T_PROXY" --config "$d/config.json" --install-pattern \
	>"$d/nopid.out" 2>"$d/nopid.err" &
pid=$!
t_track_pid "$pid"
wait "$pid"
t_ok "without the host's pid namespace: the start fails" test $? -ne 0
t_ok "it says why" grep -q "outside the host's mount namespace (or cannot tell) and cannot reach it" "$d/nopid.err"
t_ok "and what a pod needs" grep -q "hostPID: true" "$d/nopid.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "without the host's pid namespace: core_pattern untouched"

# The host's namespace found but not enterable (no CAP_SYS_ADMIN): said too.
CDP_FAULT=hostmnt-setns unshare -m -- "$T_PROXY" --config "$d/config.json" --install-pattern \
	>"$d/nocap.out" 2>"$d/nocap.err" &
pid=$!
t_track_pid "$pid"
wait "$pid"
t_ok "the namespace cannot be entered: the start fails" test $? -ne 0
t_ok "it says why" grep -q "cannot enter it" "$d/nocap.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "cannot enter: core_pattern untouched"
t_done
