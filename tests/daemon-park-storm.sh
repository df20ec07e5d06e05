#!/bin/bash
# Issue 16: workers accept connections themselves. A container dump that finds every
# container slot taken is parked (it holds no thread), and its worker goes back to
# accepting: so the queue's bound must hold for what workers accept too. Here one
# container slot (max_concurrent 1), a collector that takes each dump and never reads
# it, and forty crashes at once in that container: every crash gets exactly one event,
# the ones beyond the queue are answered at once (overload), and the daemon lives on
# (a parked ring that overflowed lost dumps and freed others twice).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"reject"},
  {"name":"host","match":{},"action":"store"}]' \
	'"limits": { "max_concurrent": 1, "dump_timeout": "8s", "stall_timeout": "1s", "collector_timeout": "1s",
	             "per_container": { "concurrent": 64 } }'
t_ok "daemon starts" t_proxy_start "$d"

t_ok "a container" eval 't_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope" && t_container_start "$T_CG"'
holder=$T_HOLDER cg=$T_CG
t_container_run "$holder" "$cg" "$T_HELPERS/cdp-test-peer" collector @coredump-collector stall >"$d/stall.out" 2>&1 &
t_track_pid $!
t_ok "its collector takes dumps and never reads them" t_wait_for 10 grep -qs listening=1 "$d/stall.out"

n=40
pids=()
# Started one by one, they crash together: how long the starts take (a busy machine) must not
# spread the storm over the seconds in which the slot frees and takes more.
for i in $(seq 1 $n); do
	t_container_run "$holder" "$cg" "$T_HELPERS/cdp-crasher" --name "pstorm-$i" --wait-file "$d/go" \
		>"$d/pstorm-$i.out" 2>&1 &
	pids+=($!)
	t_track_pid $!
done
t_ok "forty crashers wait for the word" t_wait_for 30 bash -c "[ \$(pgrep -c '^pstorm-[0-9]+\$') -eq $n ]"
touch "$d/go"
# Refused before identification, an overload event may not know the comm: count all events.
events() { grep -c '"event":"coredump"' "$d/events.jsonl" 2>/dev/null; }
t_ok "every crash has its event within 40 s" t_wait_for 40 bash -c "[ \$(grep -c '\"event\":\"coredump\"' '$d/events.jsonl') -ge $n ]"
sleep 1
t_is "$(events)" "$n" "forty crashes, forty events"
t_is "$(jq -r 'select(.event == "coredump") | .id' "$d/events.jsonl" | sort -u | wc -l)" "$n" "forty dumps, each once"
t_is "$(grep -o '"comm":"pstorm-[0-9]*"' "$d/events.jsonl" | sort | uniq -d | wc -l)" 0 "no crash reported twice"
t_diag "identified $(grep -c '"comm":"pstorm-' "$d/events.jsonl"), answered overload $(grep -c '"reason":"overload"' "$d/events.jsonl")"
t_ok "the queue's bound held: some were answered at once (overload)" \
	t_lt 0 "$(grep -c '"reason":"overload"' "$d/events.jsonl")"
t_ok "and no more were taken than the queue holds beside the slot and the workers" \
	t_lt "$(grep -c '"comm":"pstorm-' "$d/events.jsonl")" 24
done=0
for p in "${pids[@]}"; do
	timeout 20 tail --pid="$p" -f /dev/null && done=$((done + 1))
done
t_is "$done" "$n" "every crashing task was let go"
t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_ok "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$d/proxy.err'"
t_proxy_stop
t_is "$?" 0 "SIGTERM: exit 0"
t_done
