#!/bin/bash
# The daemon in a pod on a kernel without the coredump socket (pipe mode,
# forced here by "protocol": "pipe"): the kernel runs the pipe helper from
# the host's root, so the pattern names listen.pipe_helper, the path where
# the DaemonSet's init container put the helper on the node. The pod does
# not see that path; the daemon checks the helper from the host's mount
# namespace (through its keeper's writer) and installs the pattern from
# there. Crashes are stored through the helper; SIGTERM restores
# core_pattern and core_pipe_limit. A helper that only the pod sees, or one
# on a noexec mount of the host, is refused at start with core_pattern
# untouched: the kernel could not run it and every crash would be lost.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_root
t_require_cmd jq unshare
t_core_pattern_save
[ -x "$top_builddir/coredump-proxy-pipe" ] || t_skip_all "coredump-proxy-pipe is not built"

marker='|/bin/false cdp-pod-pipe %p'
t_core_pattern_set "$marker"
t_sysctl_set /proc/sys/kernel/core_pipe_limit "$(cat /proc/sys/kernel/core_pipe_limit)"
limit_before=$(cat /proc/sys/kernel/core_pipe_limit)

t_tmpdir
d=$T_TMP
chmod 0755 "$d"
# The node's copy of the helper, as the init container leaves it: root's, 0755, in a root-only directory.
install -d -m 0755 "$d/node-bin" "$d/pod-only"
install -m 0755 "$top_builddir/coredump-proxy-pipe" "$d/node-bin/coredump-proxy-pipe"

# config HELPER: a host store, pipe mode, listen.pipe_helper HELPER.
config() {
	t_proxy_config "$d" pipe '[{"name":"host","match":{},"action":"store"}]'
	jq --arg h "$1" '.listen.pipe_helper = $h' "$d/config.json" >"$d/config.new" &&
		mv "$d/config.new" "$d/config.json"
}

# start_pod OUT SETUP [WRAP...]: the daemon in a mount namespace of its own; SETUP runs there first.
start_pod() {
	local out=$1 setup=$2
	shift 2
	unshare -m --propagation private -- sh -c "$setup"' && exec "$@"' sh \
		"$@" "$T_PROXY" --config "$d/config.json" --install-pattern --log-level debug \
		>"$d/$out.out" 2>"$d/$out.err" &
	pid=$!
	t_track_pid "$pid"
}
# exit_status: the started daemon's exit status, once it ended; one still running after 20 s
# started (what these cases refuse): it is stopped, and the status is 0.
exit_status() {
	t_wait_for 20 bash -c "! kill -0 $pid 2>/dev/null" || { kill -TERM "$pid" 2>/dev/null; wait "$pid"; return 0; }
	wait "$pid"
}

# The pod: the socket directory at the same path; the node's helper directory is not in its view.
config "$d/node-bin/coredump-proxy-pipe"
T_PROXY_WRAP=(unshare -m --propagation private -- sh -c
	'mount --bind "$0" "$0" && mount -t tmpfs -o mode=0755 cdp-pod "$0/node-bin" && exec "$@"' "$d")
t_ok "daemon starts in a mount namespace of its own (pipe)" t_proxy_start "$d"
T_PROXY_WRAP=()
t_ok "the pod does not see the node's helper" \
	test ! -e "/proc/$T_PROXY_PID/root$d/node-bin/coredump-proxy-pipe"
t_ok "it says which helper, in the host's root" \
	grep -q "pipe helper $d/node-bin/coredump-proxy-pipe (listen.pipe_helper, in the host's root)" "$d/proxy.err"
t_like "$(cat /proc/sys/kernel/core_pattern)" "^\\|$d/node-bin/coredump-proxy-pipe $d/kernel.sock P=%P s=%s t=%t d=%d" \
	"the pattern names the node's helper and this socket"
t_ok "core_pipe_limit is raised" test "$(cat /proc/sys/kernel/core_pipe_limit)" -gt 0
"$T_HELPERS/cdp-crasher" --name pod-pipe >/dev/null
ev=$(t_event "$d" pod-pipe)
t_is "$(t_jq "$ev" .mode)" pipe "the crash came through the pipe helper"
t_is "$(t_jq "$ev" .outcome)" stored "and is stored"
t_ok "its core is an ELF file" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_ok "SIGTERM stops it" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGTERM: the previous pattern is back"
t_is "$(cat /proc/sys/kernel/core_pipe_limit)" "$limit_before" "SIGTERM: core_pipe_limit is back"

# A helper only the pod sees: the kernel, in the host's root, would find nothing.
config "$d/pod-only/coredump-proxy-pipe"
start_pod podonly 'mount -t tmpfs -o mode=0755 cdp-pod "'"$d"'/pod-only" &&
	install -m 0755 "'"$top_builddir"'/coredump-proxy-pipe" "'"$d"'/pod-only/coredump-proxy-pipe"'
exit_status
t_ok "a helper the host does not have: the start fails" t_lt 0 $?
t_ok "it says where it looked and why" \
	grep -q "listen.pipe_helper $d/pod-only/coredump-proxy-pipe is not fit to be run by the kernel as root from the host's root: it does not exist" \
	"$d/podonly.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "a helper the host does not have: core_pattern untouched"

# A helper on a noexec mount of the host (a hostPath under a noexec /var): the kernel's exec would fail.
install -d -m 0755 "$d/noexec"
t_ok "a noexec mount" mount -t tmpfs -o noexec,mode=0755 cdp-noexec "$d/noexec"
t_at_exit "umount '$d/noexec'"
install -m 0755 "$top_builddir/coredump-proxy-pipe" "$d/noexec/coredump-proxy-pipe"
config "$d/noexec/coredump-proxy-pipe"
start_pod noexec true
exit_status
t_ok "a helper on a noexec mount: the start fails" t_lt 0 $?
t_ok "it says why" grep -q "it is on a noexec mount, where the kernel cannot run it" "$d/noexec.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "a helper on a noexec mount: core_pattern untouched"

# A helper others may change: the kernel would run their program as root.
chmod 0777 "$d/node-bin"
config "$d/node-bin/coredump-proxy-pipe"
start_pod writable true
exit_status
t_ok "a helper in a directory others can write: the start fails" t_lt 0 $?
t_ok "it says why" grep -q "is not root's alone" "$d/writable.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "a helper others can change: core_pattern untouched"
chmod 0755 "$d/node-bin"

# Every directory on the way counts: one others can write lets them swap the subtree below it.
chmod 0777 "$d"
start_pod ancestor true
exit_status
t_ok "a helper below a directory others can write: the start fails" t_lt 0 $?
t_ok "it says why" grep -q "a directory or symbolic link on its path, is not root's alone" "$d/ancestor.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "an ancestor others can change: core_pattern untouched"
chmod 0755 "$d"

# A symlink to the node's helper that another user owns: its target is whatever that user says.
ln -s "$d/node-bin/coredump-proxy-pipe" "$d/helper-link"
chown -h 65534:65534 "$d/helper-link"
config "$d/helper-link"
start_pod symlink true
exit_status
t_ok "a helper named through another user's symlink: the start fails" t_lt 0 $?
t_ok "it says why" grep -q "a directory or symbolic link on its path, is not root's alone" "$d/symlink.err"
config "$d/node-bin/coredump-proxy-pipe"

# Outside the host's mount namespace without the capability to enter it (no CAP_SYS_CHROOT):
# the writer cannot start, and the pod's own view of the files is not the kernel's.
start_pod nowriter true setpriv --bounding-set -sys_chroot --inh-caps -sys_chroot --
exit_status
t_ok "no way into the host's mount namespace: the start fails" t_lt 0 $?
t_ok "it says why" grep -q "the host's files cannot be seen from here" "$d/nowriter.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "no way into the host's view: core_pattern untouched"
t_done
