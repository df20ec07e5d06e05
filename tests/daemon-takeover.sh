#!/bin/bash
# Zero-gap rollouts (a DaemonSet with maxSurge 1, maxUnavailable 0): a new
# instance on a socket of its own (--socket) starts beside the old one and
# takes core_pattern over; the old one notices, finishes its dumps in
# flight and ends without restoring. Across the takeover every crash has
# exactly one event, in one of the two logs. The pattern kept for the end is
# the one from before any coredump-proxy, never the other instance's socket
# (which a stop would "restore", leaving the node pointing at a dead
# socket), also after a SIGKILL of the only instance and a new start; the
# last one to stop restores it, and `restore-pattern` finds it from the
# socket the pattern points at.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

marker='|/bin/false cdp-takeover %p'
t_core_pattern_set "$marker"

t_tmpdir
d=$T_TMP
run=$d/run # the hostPath both pods share
mkdir -p "$run" "$d/a" "$d/b" "$d/c"
for x in a b c; do
	t_proxy_config "$d/$x" request '[{"name":"host","match":{},"action":"store"}]'
done

# ---- the defect of the old hooks: a SIGKILLed instance's socket saved as "the previous pattern" ----
# (socket paths from the configs here, no --socket: an older build runs this part too)
t_ok "an instance starts" t_proxy_start "$d/a"
t_proxy_kill
t_ok "after its SIGKILL, one on another socket starts" t_proxy_start "$d/b"
t_is "$(cat "$d/b/kernel.sock.previous-pattern")" "$marker" \
	"it keeps the pattern from before any coredump-proxy, not the dead socket"
t_ok "it stops" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "and restores that pattern"
rm -f "$d"/a/* "$d"/b/* 2>/dev/null
for x in a b; do
	t_proxy_config "$d/$x" request '[{"name":"host","match":{},"action":"store"}]'
done

# ---- a crash storm across a takeover ----------------------------------------------------
t_ok "the first instance starts" t_proxy_start "$d/a" --socket "$run/a.sock"
pid_a=$T_PROXY_PID
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/a.sock" "the first instance's pattern"

storm() { # four crashers in a loop until $d/stop exists
	local w i
	for w in 1 2 3 4; do
		(
			i=0
			while [ ! -e "$d/stop" ]; do
				i=$((i + 1))
				"$T_HELPERS/cdp-crasher" --name "tk-$w-$i" | sed "s/^/name=tk-$w-$i /" >>"$d/crashes.$w"
			done
		) &
		t_track_pid $!
		storm_pids+=($!)
	done
}
storm_pids=()
storm
t_wait_for 20 bash -c "[ \$(cat '$d'/crashes.* 2>/dev/null | wc -l) -ge 20 ]"
t_ok "the second instance starts beside it" t_proxy_start "$d/b" --socket "$run/b.sock"
pid_b=$T_PROXY_PID
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/b.sock" "the second instance took the pattern over"
t_ok "the first one notices and ends" t_wait_for 15 t_gone "$pid_a"
wait "$pid_a"
t_is "$?" 0 "the first one ends cleanly"
t_ok "it says why" grep -q "taken over" "$d/a/proxy.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/b.sock" "it did not restore anything"
n=$(cat "$d"/crashes.* | wc -l)
t_wait_for 20 bash -c "[ \$(cat '$d'/crashes.* | wc -l) -ge $((n + 20)) ]"
touch "$d/stop"
for p in "${storm_pids[@]}"; do wait "$p"; done

crashes=$(cat "$d"/crashes.* | wc -l)
t_diag "$crashes crashes, $(wc -l <"$d/a/events.jsonl") events from the first instance"
t_is "$(grep -vc 'coredump=1' "$d"/crashes.*| awk -F: '{ s += $2 } END { print s }')" 0 \
	"every crash was dumped (none found a dead socket)"
t_wait_for 20 bash -c "[ \$(cat '$d'/a/events.jsonl '$d'/b/events.jsonl | grep -c '\"comm\":\"tk-') -ge $crashes ]"
cat "$d/a/events.jsonl" "$d/b/events.jsonl" | jq -r 'select(.comm | startswith("tk-")) | .comm' |
	sort >"$d/events.sorted"
awk '{ sub("name=", "", $1); print $1 }' "$d"/crashes.* | sort >"$d/crashes.sorted"
t_is "$(wc -l <"$d/events.sorted")" "$crashes" "as many events as crashes"
t_is "$(uniq -d "$d/events.sorted" | wc -l)" 0 "no crash has two events"
t_ok "every crash has its event" cmp -s "$d/events.sorted" "$d/crashes.sorted"
t_ok "the first instance took some" grep -q '"comm":"tk-' "$d/a/events.jsonl"
t_ok "the second one the others" grep -q '"comm":"tk-' "$d/b/events.jsonl"
t_is "$(jq -r .outcome "$d/a/events.jsonl" "$d/b/events.jsonl" | sort -u)" stored "every one stored"

t_ok "the first one's saved pattern is gone" test ! -e "$run/a.sock.previous-pattern"
t_is "$(cat "$run/b.sock.previous-pattern")" "$marker" \
	"the second one keeps the pattern from before any coredump-proxy, not the first one's socket"
T_PROXY_PID=$pid_b
t_ok "the last instance stops" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "the last one restores the original pattern"

# ---- --on-takeover=wait: a DaemonSet restarts a container that ends on its own -----------------
t_ok "an instance that waits starts" t_proxy_start "$d/a" --socket "$run/a.sock" --on-takeover wait
pid_a=$T_PROXY_PID
daemon_a=$(t_proxy_daemon)
t_ok "the next one starts" t_proxy_start "$d/b" --socket "$run/b.sock"
pid_b=$T_PROXY_PID
t_ok "the old daemon ends" t_wait_for 15 t_gone "$daemon_a"
t_ok "its keeper says it waits" t_wait_for 5 grep -q "waiting for SIGTERM" "$d/a/proxy.err"
t_ok "and stays until stopped" test -d "/proc/$pid_a"
kill -TERM "$pid_a"
wait "$pid_a"
t_is "$?" 0 "SIGTERM ends it cleanly"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/b.sock" "without touching the new one's pattern"

# ---- SIGKILL of the only instance, then a new start: repaired -----------------------------------
T_PROXY_PID=$pid_b
t_proxy_kill
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/b.sock" "SIGKILL: the pattern points at a dead socket"
t_ok "a new instance starts" t_proxy_start "$d/c" --socket "$run/c.sock"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$run/c.sock" "it installs its pattern"
t_is "$(cat "$run/c.sock.previous-pattern")" "$marker" "and keeps the original one, not the dead socket"
"$T_HELPERS/cdp-crasher" --name tk-after-kill >/dev/null
t_is "$(t_jq "$(t_event "$d/c" tk-after-kill)" .outcome)" stored "crashes are served again"
t_ok "it stops" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "and restores the original pattern"

# ---- restore-pattern after a SIGKILL of the last one: found from the pattern itself ----------
t_ok "an instance starts for the uninstall" t_proxy_start "$d/c" --socket "$run/c.sock"
t_proxy_kill
out=$("$T_PROXY" --config "$d/a/config.json" restore-pattern)
t_like "$out" "restored" "restore-pattern, with another socket in its config, finds the saved pattern"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "restore-pattern: the original pattern is back"
t_done
