#!/bin/bash
# Stopping a socket-activated daemon with dumps in flight (issue 13): on
# SIGTERM it stops accepting at once, finishes the dumps it holds (made slow
# here: CDP_FAULT=names-lookup-delay holds each container dump on its worker
# for 5 s) within its grace period, and exits 0; the crashes that come
# meanwhile wait in the backlog of the socket the service manager holds, and
# the next daemon takes them. Every crash: one event, one core.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_require_fault_injection
t_require_cgroup2
t_require_cmd jq python3 unshare nsenter
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'

# In the service manager's place: holds the socket (fd 3), starts daemon 1, and
# daemon 2 once daemon 1 has exited.
cat >"$d/manager.sh" <<'SH'
d=$1 proxy=$2
start() {
	(
		export LISTEN_PID=$BASHPID LISTEN_FDS=1 CDP_FAULT=names-lookup-delay:5000
		exec "$proxy" --config "$d/config.json" --log-level debug
	) >>"$d/proxy-$1.out" 2>>"$d/proxy-$1.err" &
	echo $! >"$d/daemon-$1.pid"
}
start 1
until [ -e "$d/stop-1" ]; do sleep 0.05; done
echo "$EPOCHREALTIME" >"$d/term-1"
kill -TERM "$(cat "$d/daemon-1.pid")"
wait "$(cat "$d/daemon-1.pid")"
echo $? >"$d/daemon-1.status"
echo "$EPOCHREALTIME" >"$d/exit-1"
cp "$d/events.jsonl" "$d/events-1.jsonl"
start 2
until [ -e "$d/stop-2" ]; do sleep 0.05; done
kill -TERM "$(cat "$d/daemon-2.pid")"
wait "$(cat "$d/daemon-2.pid")"
echo $? >"$d/daemon-2.status"
SH
python3 - "$d" "$T_PROXY" <<'PY' &
import os, socket, sys
d, proxy = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(d + "/kernel.sock"); s.listen(4096)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.execvp("bash", ["bash", d + "/manager.sh", d, proxy])
PY
manager=$!
t_track_pid "$manager"
t_wait_for 15 grep -qs "listening on" "$d/proxy-1.err"
t_ok "pattern installed for the socket" "$T_PROXY" install-pattern --config "$d/config.json"

id=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$id.scope" && cg=$T_CG
t_container_start "$cg"
crash() {
	t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name "$1" >"$d/$1.out" 2>/dev/null
}
for i in 1 2 3; do
	crash "inflight-$i" &
	t_track_pid $!
done
# All three accepted and on their workers (each held 5 s by the fault).
in_flight() { [ "$("$T_PROXY" status --config "$d/config.json" 2>/dev/null | jq -r .in_flight_total)" = "$1" ]; }
t_ok "three dumps in flight" t_wait_for 10 in_flight 3
touch "$d/stop-1"
t_wait_for 5 test -s "$d/term-1"
# SIGTERM sent is not SIGTERM read: daemon 1 has stopped accepting once its control socket is gone.
t_wait_for 5 bash -c "! test -S '$d/kernel.sock.control'"
# While daemon 1 finishes: crashes that only the next daemon can take.
for i in 1 2; do
	crash "queued-$i" &
	t_track_pid $!
done
t_wait_for 30 test -s "$d/exit-1"
t_is "$(cat "$d/daemon-1.status")" 0 "daemon 1 exits 0"
took=$(awk -v a="$(cat "$d/term-1")" -v b="$(cat "$d/exit-1")" 'BEGIN { printf "%.1f", b - a }')
t_ok "daemon 1 waited for its dumps in flight (${took} s)" t_lt 2 "$took"
t_ok "... within the grace period" t_lt "$took" 30
for i in 1 2 3; do
	ev=$(t_event "$d" "inflight-$i" 20)
	t_is "$(t_jq "$ev" .outcome)" stored "inflight-$i: finished by daemon 1, stored"
done
t_is "$(grep -c '"comm":"inflight-' "$d/events-1.jsonl")" 3 "daemon 1 wrote their events before it exited"
t_is "$(grep -c '"comm":"queued-' "$d/events-1.jsonl")" 0 "daemon 1 did not take the crashes that came after SIGTERM"
for i in 1 2; do
	ev=$(t_event "$d" "queued-$i" 30)
	t_is "$(t_jq "$ev" .outcome)" stored "queued-$i: taken from the backlog by daemon 2, stored"
	t_wait_for 10 grep -qs coredump=1 "$d/queued-$i.out"
	t_ok "queued-$i: the task got its core" grep -q coredump=1 "$d/queued-$i.out"
done
t_is "$(grep -c '"outcome":"stored"' "$d/events.jsonl")" 5 "five crashes, five events"
t_is "$(ls "$d/store" | grep -c '\.core$')" 5 "five cores"
touch "$d/stop-2"
t_wait_for 40 t_gone "$manager"
t_is "$(cat "$d/daemon-2.status" 2>/dev/null)" 0 "daemon 2 exits 0"
t_done
