#!/bin/bash
# Crashes that reached the kernel socket's accept queue before the daemon gave
# the pattern back are still handled on stop. CDP_FAULT=stop-delay:2000 makes
# the stop sleep 2 s before the pattern goes back; three crashes (request
# mode) queue meanwhile. Issue 10: the listener was closed at once and their
# connections reset: no dump, no event. Now each gets its event and its core,
# and the daemon exits 0.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_require_fault_injection
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'
CDP_FAULT=stop-delay:2000 t_proxy_start "$d"
t_ok "daemon starts" kill -0 "$T_PROXY_PID"

kill -TERM "$T_PROXY_PID"
t_wait_for 5 grep -q "stopping" "$d/proxy.err"
for i in 1 2 3; do
	(cd "$d" && exec "$T_HELPERS/cdp-crasher" --name "queued-$i") >"$d/queued-$i.out" &
	t_track_pid $!
done
wait "$T_PROXY_PID"
t_is "$?" 0 "the daemon exits 0"
for i in 1 2 3; do
	t_wait_for 10 grep -qs coredump= "$d/queued-$i.out"
done
t_is "$(grep -c '"comm":"queued-' "$d/events.jsonl" 2>/dev/null)" 3 "three queued crashes, three event lines"
t_is "$(grep '"comm":"queued-' "$d/events.jsonl" 2>/dev/null | grep -c '"outcome":"stored"')" 3 "each one stored"
t_is "$(ls "$d/store" 2>/dev/null | grep -c '\.core$')" 3 "three cores in the store"
t_is "$(cat "$d"/queued-*.out | grep -c 'coredump=1')" 3 "each task got its core"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "core_pattern restored"
t_done
