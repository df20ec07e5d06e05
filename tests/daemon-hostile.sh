#!/bin/bash
# Hostile and broken peers: a flood of spoofed clients, collectors that stall,
# stop, talk garbage or hang up, a crash loop over the per-container limit, a
# storm of concurrent crashes, and a task killed while it is held. Every dump
# ends with an outcome, no task is held past dump_timeout, and the daemon keeps
# serving.
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
	'"limits": { "collector_timeout": "1s", "dump_timeout": "3s", "per_container": { "dumps": 3, "interval": "1m" } }'
t_ok "daemon starts" t_proxy_start "$d"

# new_pod: a pod slice, its pause holder, and two container cgroups; sets POD_HOLDER, SIDE_CG, APP_CG.
new_pod() {
	local uid slice
	uid=$(t_uuid)
	slice="kubepods.slice/kubepods-pod${uid//-/_}.slice"
	t_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && t_container_start "$T_CG" || return 1
	POD_HOLDER=$T_HOLDER
	t_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && SIDE_CG=$T_CG
	t_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && APP_CG=$T_CG
}

# bad_collector MODE: a misbehaving collector in the pod's sidecar.
bad_collector() {
	t_container_run "$POD_HOLDER" "$SIDE_CG" "$T_HELPERS/cdp-test-peer" collector @coredump-collector "$1" \
		>"$d/collector-$1.out" 2>&1 &
	t_track_pid $!
	t_wait_for 10 grep -qs listening=1 "$d/collector-$1.out"
}

# timed_crash COMM: crashes COMM in the app container; sets out, ev and secs (how long the task took).
timed_crash() {
	local start=$EPOCHREALTIME
	out=$(t_container_run "$POD_HOLDER" "$APP_CG" "$T_HELPERS/cdp-crasher" --name "$1")
	secs=$(t_elapsed "$start")
	ev=$(t_event "$d" "$1")
}

# ---- a flood of spoofed clients does not delay real dumps ---------------------------
for i in $(seq 1 100); do
	"$T_HELPERS/cdp-test-peer" connect "$d/kernel.sock" 3000 >/dev/null 2>&1 &
	t_track_pid $!
done
start=$EPOCHREALTIME
out=$("$T_HELPERS/cdp-crasher" --name during-flood)
ev=$(t_event "$d" during-flood)
t_is "$(t_jq "$ev" .outcome)" stored "a crash during a flood of 100 spoofed clients is stored"
t_ok "and is not delayed by it (took $(t_elapsed "$start") s)" t_lt "$(t_elapsed "$start")" 3
t_wait_for 15 t_count_above not-a-coredump "$d/events.jsonl" 99
t_is "$(t_count not-a-coredump "$d/events.jsonl")" 100 "every spoofed client is refused with its own event"

# ---- a collector that accepts and never reads --------------------------------------
new_pod
bad_collector stall
timed_crash stall-victim
t_is "$(t_jq "$ev" .outcome)" failed "stalled collector: outcome failed"
t_is "$(t_jq "$ev" .reason)" timeout "stalled collector: reason timeout"
t_ok "stalled collector: the task returned within dump_timeout + 2 s (took $secs s)" \
	t_lt "$secs" 5
t_ok "stalled collector: it did get the dump fd" grep -q "fds=1" "$d/collector-stall.out"

# ---- a stopped collector ---------------------------------------------------------------
new_pod
mkdir -p "$d/stopped"
t_container_run "$POD_HOLDER" "$SIDE_CG" "$T_COLLECTOR" --compress 0 --dir "$d/stopped" 2>"$d/stopped.log" &
t_track_pid $!
t_wait_for 10 grep -q "listening on" "$d/stopped.log"
collector_pid=$(pgrep -n -x coredump-collec)
kill -STOP "$collector_pid"
timed_crash stop-victim
# nsenter, the collector's parent, stops itself when its child stops: wake both.
kill -CONT "$collector_pid" "$(awk '{print $4}' "/proc/$collector_pid/stat")"
t_is "$(t_jq "$ev" .reason)" collector-timeout "stopped collector: fallback after collector_timeout"
t_is "$(t_jq "$ev" .outcome)" stored "stopped collector: stored on the host"
t_ok "stopped collector: the host has the whole core" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_ok "stopped collector: the task waited about collector_timeout (took $secs s)" \
	t_lt "$secs" 3
t_is "$(t_kv -t "$out" coredump)" 1 "stopped collector: the task got its core"

# ---- garbage, and a hang-up after taking the dump -------------------------------------
new_pod
bad_collector garbage
timed_crash garbage-victim
t_is "$(t_jq "$ev" .reason)" collector-error "garbage answer: fallback (collector-error)"
t_is "$(t_jq "$ev" .outcome)" stored "garbage answer: stored on the host"

new_pod
bad_collector close
timed_crash close-victim
t_is "$(t_jq "$ev" .outcome)" failed "hang-up after message 3: failed (no result)"
t_is "$(t_jq "$ev" .reason)" collector-error "hang-up after message 3: reason collector-error"
t_ok "hang-up: the task was released at once (took $secs s)" t_lt "$secs" 2

# ---- a crash loop: five crashes, three per minute --------------------------------------
new_pod
mkdir -p "$d/loop"
t_container_run "$POD_HOLDER" "$SIDE_CG" "$T_COLLECTOR" --compress 0 --dir "$d/loop" 2>"$d/loop.log" &
t_track_pid $!
t_wait_for 10 grep -q "listening on" "$d/loop.log"
for i in 1 2 3 4 5; do
	timed_crash "loop-$i"
	echo "$(t_jq "$ev" .outcome) $(t_kv -t "$out" coredump)" >>"$d/loop.results"
done
t_is "$(grep -c '^delivered 1$' "$d/loop.results")" 3 "crash loop: three delivered"
t_is "$(grep -c '^rejected 0$' "$d/loop.results")" 2 "crash loop: two rejected, without a core"
t_is "$(grep '"reason":"rate-limit"' "$d/events.jsonl" | grep -c '"comm":"loop-')" 2 "crash loop: reason rate-limit"
t_is "$(ls "$d/loop" | grep -c '\.core$')" 3 "crash loop: only three cores written"

# ---- a task killed while the daemon holds it --------------------------------------------
# The kill must land while the collector is asked: 5 s to ask (a reload), not 1, so that a busy
# machine cannot let the fallback store the dump first.
jq '.limits.collector_timeout = "5s" | .limits.dump_timeout = "10s"' "$d/config.json" >"$d/c2.json" &&
	mv "$d/c2.json" "$d/config.json"
before=$(t_count "configuration reloaded" "$d/proxy.err")
kill -HUP "$T_PROXY_PID"
t_ok "reloaded with a collector_timeout of 5 s" t_wait_for 10 t_count_above "configuration reloaded" "$d/proxy.err" "$before"
new_pod
bad_collector silent
t_container_run "$POD_HOLDER" "$APP_CG" "$T_HELPERS/cdp-crasher" --name kill-me >"$d/kill.out" &
t_track_pid $!
t_wait_for 10 grep -qs request= "$d/collector-silent.out"
victim=$(pgrep -x kill-me)
kill -KILL $victim
ev=$(t_event "$d" kill-me)
t_is "$(t_jq "$ev" .pid)" "$victim" "killed while held: the event names the original task"
t_is "$(t_jq "$ev" .outcome)" failed "killed while held: outcome failed"
t_is "$(t_jq "$ev" .reason)" task-gone "killed while held: reason task-gone"
t_ok "killed while held: nothing stored under its name" \
	bash -c "! ls '$d/store' | grep -q '$(t_jq "$ev" .id)'"

t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_proxy_stop

# ---- a storm: forty crashes, four at a time ---------------------------------------------
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"containers","match":{"container":true},"action":"forward"}]' \
	'"limits": { "max_concurrent": 4 }'
t_ok "daemon starts (storm)" t_proxy_start "$d"
new_pod
mkdir -p "$d/storm"
t_container_run "$POD_HOLDER" "$SIDE_CG" "$T_COLLECTOR" --compress 0 --dir "$d/storm" 2>"$d/storm.log" &
t_track_pid $!
t_wait_for 10 grep -q "listening on" "$d/storm.log"
export POD_HOLDER APP_CG T_HELPERS
seq 1 40 | xargs -P 4 -I{} nsenter -t "$POD_HOLDER" -n -p -m -- sh -c \
	'echo 0 > "$1/cgroup.procs" && exec "$2" --name "storm-$3" --size 1048576' sh "$APP_CG" "$T_HELPERS/cdp-crasher" {} \
	>"$d/storm.out"
t_wait_for 30 t_count_above '"comm":"storm-' "$d/events.jsonl" 39
t_is "$(t_count '"comm":"storm-' "$d/events.jsonl")" 40 "storm: forty events for forty crashes"
t_is "$(grep '"comm":"storm-' "$d/events.jsonl" | grep -c '"outcome":"delivered"')" 40 "storm: every one delivered, none failed"
t_is "$(grep -c 'coredump=1' "$d/storm.out")" 40 "storm: every task got its core"
t_is "$(ls "$d/storm" | grep -c '\.core$')" 40 "storm: forty cores in the collector"
t_proxy_stop
t_done
