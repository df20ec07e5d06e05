#!/bin/bash
# The first worker thread cannot start (EAGAIN from a unit's TasksMax or a
# pod's pids limit; here CDP_FAULT=pthread-create). Issue 10: the dump stayed
# queued while the daemon freed it (a use-after-free: fds closed twice, a
# double free). Now the crash is answered at once as rejected (overload),
# with one event line, and the daemon goes on to handle the next crash.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_fault_injection
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'
CDP_FAULT=pthread-create t_proxy_start "$d"
t_ok "daemon starts (the first pthread_create will fail)" kill -0 "$T_PROXY_PID"

# Refused before any /proc read: the event may not know the comm, so it is found by pid.
event_of_pid() { grep "\"pid\":$1," "$d/events.jsonl" 2>/dev/null | tail -n 1; }
out=$("$T_HELPERS/cdp-crasher" --name no-thread)
pid=$(t_kv -t "$out" pid)
t_wait_for 10 grep -qs "\"pid\":$pid," "$d/events.jsonl"
ev=$(event_of_pid "$pid")
t_is "$(t_jq "$ev" .outcome)" rejected "no worker thread: the crash is rejected"
t_is "$(t_jq "$ev" .reason)" overload "no worker thread: reason overload"
t_is "$(t_kv -t "$out" coredump)" 0 "no worker thread: the task got no core"
t_is "$(t_count "\"pid\":$pid," "$d/events.jsonl")" 1 "one event line for it, not two"

out=$("$T_HELPERS/cdp-crasher" --name after-no-thread)
ev=$(t_event "$d" after-no-thread 10)
t_is "$(t_jq "$ev" .outcome)" stored "the next crash is handled normally: stored"
t_ok "its core is whole" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_is "$(t_kv -t "$out" coredump)" 1 "the next task got its core"
sleep 0.5
t_is "$(grep -c '"event":"coredump"' "$d/events.jsonl")" 2 "two crashes, two event lines"
t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_ok "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$d/proxy.err'"
t_proxy_stop
t_is "$?" 0 "SIGTERM: exit 0"
t_done
