#!/bin/bash
# core_pattern already points at our own socket and no saved pattern is left
# (an earlier daemon's state file lost, or a pattern written by hand). Issue
# 10: the daemon saved its own pattern as "previous" and restored it on stop,
# leaving the kernel pointing at a socket nobody serves. Now it restores the
# kernel's default, "core", and says so.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[]'
t_core_pattern_set "@@$d/kernel.sock"
t_ok "no saved pattern" test ! -e "$d/kernel.sock.previous-pattern"
t_ok "daemon starts over a pattern that is already its own" t_proxy_start "$d"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the pattern is ours while it runs"
saved=$(cat "$d/kernel.sock.previous-pattern" 2>/dev/null)
t_ok "it does not save its own pattern as the one to restore (saved: '$saved')" test "$saved" != "@@$d/kernel.sock"
t_proxy_stop
t_is "$?" 0 "SIGTERM: exit 0"
t_is "$(cat /proc/sys/kernel/core_pattern)" core "after the stop, the kernel's default pattern, not our dead socket"
t_ok "with a warning" grep -qi "warning.*core_pattern\|core_pattern.*warning\|warning.*pattern" "$d/proxy.err"
t_done
