#!/bin/bash
# core_pattern is restored on every way the daemon ends: SIGTERM, SIGINT, a
# failed start, a crash of the daemon itself (its keeper restores it), and
# after a SIGKILL of everything through `coredump-proxy restore-pattern`,
# which takes the saved pattern only from a regular file of root's, never
# through a symlink. Neither the daemon nor its keeper is ever dumpable.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

marker='|/bin/false cdp-lifecycle %p'
t_core_pattern_set "$marker"

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[]'
t_ok "daemon starts" t_proxy_start "$d"
t_is "$(( $("$T_HELPERS/cdp-test-peer" coredump-mask "$T_PROXY_PID") & 2 ))" 2 \
	"the keeper is not dumpable (its pidfd shows PIDFD_COREDUMP_SKIP)"
t_is "$(( $("$T_HELPERS/cdp-test-peer" coredump-mask "$(t_proxy_daemon)") & 2 ))" 2 \
	"the daemon is not dumpable either"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "pattern installed"
t_is "$(cat "$d/kernel.sock.previous-pattern")" "$marker" "previous pattern saved for restore-pattern"
t_is "$(stat -c %a "$d/kernel.sock")" 600 "kernel socket is root-only (0600)"
t_ok "a second daemon on the same socket refuses to start" \
	bash -c "! '$T_PROXY' --config '$d/config.json' 2>'$d/second.err'"
t_ok "it says why" grep -q "another coredump-proxy" "$d/second.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the first daemon's pattern is untouched"
t_ok "SIGTERM stops the daemon cleanly" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGTERM: previous pattern restored exactly"
t_ok "SIGTERM: socket removed" test ! -e "$d/kernel.sock"
t_ok "SIGTERM: saved pattern removed" test ! -e "$d/kernel.sock.previous-pattern"

t_ok "daemon starts again" t_proxy_start "$d"
kill -INT "$T_PROXY_PID"
wait "$T_PROXY_PID"
t_is "$?" 0 "SIGINT: exit status 0"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGINT: previous pattern restored"

# A crash of the daemon itself: its keeper restores the pattern and dies of
# the same signal (and, non-dumpable, the daemon does not dump into its own socket).
# (In a sanitizer build ASan would take the SIGSEGV sent by hand for a bug of
# ours and exit 1: let the daemon die of it, as a release build does.)
export ASAN_OPTIONS=handle_segv=0
t_ok "daemon starts for the crash" t_proxy_start "$d"
unset ASAN_OPTIONS
kill -SEGV "$(t_proxy_daemon)"
wait "$T_PROXY_PID"
t_is "$?" $((128 + 11)) "daemon died of SIGSEGV (the keeper's status says so)"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "daemon crash: previous pattern restored"

# A SIGKILL of the keeper (and with it the daemon) leaves the pattern behind;
# restore-pattern puts the saved one back.
t_ok "daemon starts for SIGKILL" t_proxy_start "$d"
t_proxy_kill
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "SIGKILL: our pattern is left behind"

# What restore-pattern writes into core_pattern must be root's own file: not a
# symlink to someone's file, not a file others may write.
mv "$d/kernel.sock.previous-pattern" "$d/saved"
printf '|/tmp/not-the-saved-one %%p' >"$d/planted"
ln -s "$d/planted" "$d/kernel.sock.previous-pattern"
t_ok "restore-pattern refuses a saved pattern behind a symlink" \
	bash -c "! '$T_PROXY' --config '$d/config.json' restore-pattern >/dev/null 2>'$d/restore.err'"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the symlink's target was not installed"
rm "$d/kernel.sock.previous-pattern"
cp "$d/saved" "$d/kernel.sock.previous-pattern"
chmod 0622 "$d/kernel.sock.previous-pattern"
t_ok "restore-pattern refuses a saved pattern others may write" \
	bash -c "! '$T_PROXY' --config '$d/config.json' restore-pattern >/dev/null 2>'$d/restore.err'"
t_ok "and says why" grep -q "only root may write" "$d/restore.err"
chmod 0600 "$d/kernel.sock.previous-pattern"

out=$("$T_PROXY" --config "$d/config.json" restore-pattern)
t_like "$out" "restored" "restore-pattern says it restored"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "restore-pattern: previous pattern back"

# A restart after SIGKILL keeps the original previous pattern, not our own.
t_ok "daemon starts for the second SIGKILL" t_proxy_start "$d"
t_proxy_kill
t_ok "daemon restarts over its own stale pattern" t_proxy_start "$d"
t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "restart over a stale pattern: the original comes back"

# A failed start: the listen path's directory is a file.
t_tmpdir
d2=$T_TMP
touch "$d2/notadir"
cat >"$d2/config.json" <<JSON
{ "listen": { "path": "$d2/notadir/kernel.sock" }, "events": "$d2/events.jsonl",
  "store": { "directory": "$d2/store" } }
JSON
t_ok "a daemon that cannot listen fails" bash -c "! '$T_PROXY' --config '$d2/config.json' --install-pattern 2>'$d2/err'"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "failed start: pattern untouched"

# Someone else changes the pattern while we run: theirs is kept.
t_ok "daemon starts for a foreign change" t_proxy_start "$d"
t_core_pattern_set "core.changed"
t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "core.changed" "a pattern changed under us is left alone"
t_done
