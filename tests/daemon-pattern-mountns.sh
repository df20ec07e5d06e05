#!/bin/bash
# A socket pattern written from a mount namespace other than the initial one
# (a unit with PrivateTmp= or ProtectHome=) is refused by the kernel with
# EINVAL, the error a kernel without "@@" gives. Issue 13: the daemon took it
# for the latter, retried "@", failed again with "Invalid argument" and left
# the administrator guessing. Now it compares mount namespaces before writing
# and says which: no write, no "@" retry, a message naming the namespace.
# With the capabilities to enter the host's mount namespace (CAP_SYS_ADMIN
# and CAP_SYS_CHROOT) the keeper writes from there instead (issue 14,
# tests/daemon-pod.sh); here it lacks CAP_SYS_CHROOT, as a unit or a pod
# that does not grant it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd unshare timeout setpriv
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'

timeout 20 unshare -m -- setpriv --bounding-set=-sys_chroot -- "$T_PROXY" --config "$d/config.json" --install-pattern >"$d/daemon.out" 2>"$d/daemon.err"
t_ok "the daemon fails to start" test "$?" -ne 0 -a "$?" -ne 124
t_like "$(cat "$d/daemon.err")" "runs in a mount namespace other than the initial one" "the daemon says why"
t_ok "no '@' retry, no 'kernel lacks @@'" test "$(grep -c "refuses '@@'" "$d/daemon.err")" -eq 0
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "core_pattern untouched"

timeout 20 unshare -m -- "$T_PROXY" install-pattern --config "$d/config.json" >"$d/install.out" 2>"$d/install.err"
t_is "$?" 1 "install-pattern fails"
t_like "$(cat "$d/install.err")" "runs in a mount namespace other than the initial one" "install-pattern says why"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "core_pattern still untouched"
t_ok "no saved pattern left behind" test ! -e "$d/kernel.sock.previous-pattern"
t_done
