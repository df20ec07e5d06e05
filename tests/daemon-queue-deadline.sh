#!/bin/bash
# A dump that waited in the worker queue until past its deadline (dump_timeout
# runs from accept) is rejected with reason timeout: it never had a chance,
# and the kernel is told at once. Issue 10: it was run anyway and failed as
# protocol-error. Set-up: max_concurrent 1, dump_timeout 3s; the only worker
# containers may hold waits for a silent collector's answer; a second crash of
# the container waits behind it (parked: host dumps keep workers of their own,
# so only container dumps can wait like this); the daemon is then frozen
# (SIGSTOP, a machine under load) for 4 s, so that the waiting dump is past
# its deadline when a worker takes it. The freeze must begin before the first
# dump's 3 s are over (else the worker takes the second in time): 3 s, not 1,
# leave a busy machine room for the crashes and the status polls before it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save


t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}]' \
	'"limits": { "max_concurrent": 1, "dump_timeout": "3s", "collector_timeout": "5s" }'
t_ok "daemon starts" t_proxy_start "$d"

t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope" && t_container_start "$T_CG"
holder=$T_HOLDER
cg=$T_CG
t_container_run "$holder" "$cg" "$T_HELPERS/cdp-test-peer" collector @coredump-collector silent >"$d/silent.out" 2>&1 &
t_track_pid $!
t_wait_for 10 grep -qs listening=1 "$d/silent.out"

# The only worker containers may hold waits for the silent collector...
t_container_run "$holder" "$cg" "$T_HELPERS/cdp-crasher" --name busy-worker >/dev/null &
t_track_pid $!
t_wait_for 5 grep -qs "request=" "$d/silent.out"
# ...while another crash of the container waits behind it.
t_container_run "$holder" "$cg" "$T_HELPERS/cdp-crasher" --name waited-too-long >"$d/queued.out" &
t_track_pid $!
queued() { [ "$("$T_PROXY" --config "$d/config.json" status 2>/dev/null | jq -r .queued)" = 1 ]; }
t_ok "the second crash waits for a worker" t_wait_for 5 queued
kill -STOP "$(t_proxy_daemon)"
sleep 4
kill -CONT "$(t_proxy_daemon)"

ev=$(t_event "$d" waited-too-long 10)
t_is "$(t_jq "$ev" .outcome)" rejected "a dump taken from the queue past its deadline: rejected"
t_is "$(t_jq "$ev" .reason)" timeout "reason timeout, not protocol-error"
t_wait_for 5 grep -qs coredump= "$d/queued.out"
t_is "$(t_kv -t "$(cat "$d/queued.out")" coredump)" 0 "the kernel was told to reject: no core"
t_diag "the dump that held the worker: $(t_jq "$(t_event "$d" busy-worker)" '.outcome + " " + .reason')"
t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_proxy_stop
t_done
