#!/bin/bash
# A program started with stdin, stdout or stderr closed would give that
# number to the first file it opens: event lines meant for stdout (events
# "-") would land in a lock file or a directory, log lines in a dump. Both
# programs put /dev/null there before they open anything.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
cat >"$d/config.json" <<JSON
{
  "listen": { "path": "$d/kernel.sock", "protocol": "request" },
  "events": "-",
  "store": { "directory": "$d/store" },
  "routes": [ { "name": "host", "match": {}, "action": "store" } ]
}
JSON
"$T_PROXY" --config "$d/config.json" --install-pattern --log-level debug 0<&- 1>&- 2>>"$d/proxy.err" &
T_PROXY_PID=$!
t_track_pid "$T_PROXY_PID"
t_ok "the daemon starts with stdin and stdout closed" t_wait_for 10 grep -q "listening on" "$d/proxy.err"

for pid in "$T_PROXY_PID" $(t_proxy_daemon); do
	t_is "$(readlink "/proc/$pid/fd/0")" /dev/null "pid $pid: stdin is /dev/null"
	t_is "$(readlink "/proc/$pid/fd/1")" /dev/null "pid $pid: stdout is /dev/null"
	t_is "$(readlink "/proc/$pid/fd/2")" "$d/proxy.err" "pid $pid: stderr is the log it was given"
done

out=$("$T_HELPERS/cdp-crasher" --name closed-stdout --size 1048576)
t_is "$(t_kv -t "$out" coredump)" 1 "a crash is served"
t_ok "and stored, compressed by default" t_wait_for 10 bash -c "ls '$d'/store/*.core.zst >/dev/null 2>&1"
t_ok "its event went to stdout (/dev/null), not into a file the daemon opened" \
	bash -c "! grep -rqs '\"event\":\"coredump\"' '$d'"
t_is "$(stat -c %s "$d/kernel.sock.lock")" 0 "the lock file is empty"
t_ok "SIGTERM: a clean stop" t_proxy_stop

# The collector: all three closed.
mkdir "$d/ct"
"$T_COLLECTOR" --compress 0 --dir "$d/ct" --address "@cdp-closed-stdio-$$" 0<&- 1>&- 2>&- &
cpid=$!
t_track_pid "$cpid"
t_ok "the collector starts with every standard stream closed" \
	t_wait_for 10 bash -c "grep -q 'cdp-closed-stdio-$$' /proc/net/unix"
for fd in 0 1 2; do
	t_is "$(readlink "/proc/$cpid/fd/$fd")" /dev/null "collector: fd $fd is /dev/null"
done
kill -TERM "$cpid"
wait "$cpid"
t_is "$?" 0 "the collector stops cleanly"
t_done
