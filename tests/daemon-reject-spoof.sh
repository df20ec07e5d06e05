#!/bin/bash
# Reject routes cost the task its core and the disk nothing; a process that
# merely connects to the kernel socket is refused with its own event; the
# daemon keeps serving real crashes afterwards.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

for mode in request plain; do
	t_tmpdir
	d=$T_TMP
	[ "$mode" = plain ] && t_sysctl_set /proc/sys/kernel/core_pipe_limit 2
	t_proxy_config "$d" "$mode" '[
	  {"name":"drop-noisy","match":{"comm":"noisy-*"},"action":"reject"},
	  {"name":"host","match":{},"action":"store"}]'
	t_ok "$mode: daemon starts" t_proxy_start "$d"

	out=$("$T_HELPERS/cdp-crasher" --name noisy-1 --size 1048576)
	ev=$(t_event "$d" noisy-1)
	t_is "$(t_jq "$ev" .outcome)" rejected "$mode: reject route gives outcome rejected"
	t_is "$(t_jq "$ev" .route)" drop-noisy "$mode: reject route named"
	t_is "$(t_jq "$ev" .reason)" route "$mode: rejected by route"
	# Only "@@" can refuse a dump before it is written; "@" can only stop the stream.
	[ "$mode" = request ] && t_is "$(t_kv -t "$out" coredump)" 0 "$mode: rejected task has no core in its wait status"
	t_is "$(t_kv -t "$out" signal)" 11 "$mode: rejected task still died of its signal"
	t_is "$(ls "$d/store" | wc -l)" 0 "$mode: nothing stored for a rejected dump"

	"$T_HELPERS/cdp-test-peer" connect "$d/kernel.sock" 2000 >"$d/peer.out" &
	peer=$!
	t_track_pid "$peer"
	t_wait_for 10 grep -q not-a-coredump "$d/events.jsonl"
	ev=$(grep not-a-coredump "$d/events.jsonl" | tail -n 1)
	t_is "$(t_jq "$ev" .outcome)" rejected "$mode: spoofed connection rejected"
	t_is "$(t_jq "$ev" .reason)" not-a-coredump "$mode: reason not-a-coredump"
	t_is "$(t_jq "$ev" .route)" null "$mode: spoofed connection has no route"
	t_is "$(t_jq "$ev" .pid)" "$peer" "$mode: spoofed event names the connecting process"
	kill "$peer" 2>/dev/null

	out=$("$T_HELPERS/cdp-crasher" --name after-spoof)
	ev=$(t_event "$d" after-spoof)
	t_is "$(t_jq "$ev" .outcome)" stored "$mode: the daemon still serves real crashes"
	t_is "$(t_kv -t "$out" coredump)" 1 "$mode: and the task got its core"
	t_proxy_stop
done
t_done
