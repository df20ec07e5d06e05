#!/bin/bash
# One container must not starve the others (issue 10: a collector that
# accepts and never answers held a worker for the whole dump_timeout, and a
# few such crashes held every worker). With max_concurrent 4 and dump_timeout
# 60s, six crashes go to a container whose collector takes each dump and
# never reads it nor answers; meanwhile a crash in another container is
# delivered to its collector within 5 s, and a host crash is stored within
# 5 s. The stalled dumps themselves are given up after the no-progress
# timeout, well before dump_timeout.
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
	'"limits": { "max_concurrent": 4, "dump_timeout": "60s", "collector_timeout": "2s" }'
t_ok "daemon starts" t_proxy_start "$d"

# new_container: a docker container; sets HOLDER and CG.
new_container() {
	t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope" && t_container_start "$T_CG" || return 1
	HOLDER=$T_HOLDER
	CG=$T_CG
}

# ---- the greedy container: six crashes, a collector that stalls each dump -----------------------
new_container
greedy_holder=$HOLDER greedy_cg=$CG
t_container_run "$HOLDER" "$CG" "$T_HELPERS/cdp-test-peer" collector @coredump-collector stall >"$d/stall.out" 2>&1 &
t_track_pid $!
t_wait_for 10 grep -qs listening=1 "$d/stall.out"
greedy_start=$EPOCHREALTIME
for i in 1 2 3 4 5 6; do
	t_container_run "$greedy_holder" "$greedy_cg" "$T_HELPERS/cdp-crasher" --name "greedy-$i" >"$d/greedy-$i.out" &
	t_track_pid $!
done
# Each one either reached the collector or was refused (container-busy) before we go on.
settled() {
	[ $(($(grep -c '^dump=' "$d/stall.out") + $(t_count '"reason":"container-busy"' "$d/events.jsonl"))) -ge 6 ]
}
t_wait_for 5 settled
t_diag "greedy container: $(grep -c '^dump=' "$d/stall.out") dumps handed to its collector," \
	"$(t_count '"reason":"container-busy"' "$d/events.jsonl") refused as container-busy"

# ---- another container's crash is delivered -------------------------------------------------------
new_container
mkdir -p "$d/good"
t_container_run "$HOLDER" "$CG" "$T_COLLECTOR" --compress 0 --dir "$d/good" 2>"$d/good.log" &
t_track_pid $!
t_wait_for 10 grep -q "listening on" "$d/good.log"
start=$EPOCHREALTIME
t_container_run "$HOLDER" "$CG" "$T_HELPERS/cdp-crasher" --name other-container >"$d/other.out" &
t_track_pid $!
ev=$(t_event "$d" other-container 10)
secs=$(t_elapsed "$start")
t_is "$(t_jq "$ev" .outcome)" delivered "another container's crash is delivered to its collector"
t_ok "within 5 s (took $secs s)" t_lt "$secs" 5

# ---- and a host crash is stored ---------------------------------------------------------------------
start=$EPOCHREALTIME
"$T_HELPERS/cdp-crasher" --name host-crash >"$d/host.out" &
t_track_pid $!
ev=$(t_event "$d" host-crash 10)
secs=$(t_elapsed "$start")
t_is "$(t_jq "$ev" .outcome)" stored "a host crash is stored"
t_ok "within 5 s (took $secs s)" t_lt "$secs" 5

# ---- the stalled dumps are given up on no progress, before dump_timeout -----------------------------
t_wait_for 65 t_count_above '"comm":"greedy-' "$d/events.jsonl" 5
secs=$(t_elapsed "$greedy_start")
stalled=$(grep '"comm":"greedy-' "$d/events.jsonl" | grep -v '"reason":"container-busy"')
t_diag "the stalled dumps ended $secs s after the crashes (dump_timeout 60 s):" \
	"$(printf '%s\n' "$stalled" | jq -r '.outcome + "/" + .reason' | sort | uniq -c | tr -s ' \n' ' ')"
t_ok "every stalled dump was given up before dump_timeout (took $secs s)" t_lt "$secs" 55
t_is "$(printf '%s\n' "$stalled" | grep -c '"outcome":"delivered"')" 0 "a stalled dump is never delivered"
t_like "$(printf '%s\n' "$stalled" | jq -r .reason | sort -u | tr '\n' ' ')" '^(no-progress )+$' \
	"reason no-progress"
t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_proxy_stop
t_done
