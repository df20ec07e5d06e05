#!/bin/bash
# Socket activation (issue 13): Debian's systemd-socket-activate owns the
# kernel socket, as coredump-proxy.socket does, and a small script in the
# service manager's place (it holds the fd, as systemd does) starts the
# daemon with LISTEN_FDS, restarts it during a crash storm, with a gap in
# which no daemon runs, and stops it. The pattern is installed once with
# `coredump-proxy install-pattern`, as coredump-proxy-pattern.service does
# (without a capability, as that unit runs it), and given back at the end.
# Every crash, before, during and after the restart, gets exactly one event
# and its core: the kernel's connections wait in the backlog of the socket
# the manager holds. Each daemon tells its notify socket (abstract for the
# first, a path for the second) READY=1, STATUS= and STOPPING=1; neither
# removes the socket or gives the pattern back.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_require_cmd jq systemd-socket-activate python3 setpriv
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'
abstract="cdp-test-notify-$$"

# The notify sockets' reader: one line per datagram, newlines as '|'.
python3 - "$abstract" "$d/notify.sock" "$d/notify.log" <<'PY' &
import select, socket, sys
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind("\0" + sys.argv[1])
p = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); p.bind(sys.argv[2])
out = open(sys.argv[3], "a")
out.write("up\n"); out.flush()
while True:
    for s in select.select([a, p], [], [])[0]:
        m = s.recv(4096).decode()
        out.write(("abstract " if s is a else "path ") + m.replace("\n", "|") + "\n"); out.flush()
PY
t_track_pid $!
t_wait_for 10 grep -qs up "$d/notify.log"

# In the service manager's place: runs with fd 3, started by the first connection.
cat >"$d/manager.sh" <<'SH'
d=$1 proxy=$2 abstract=$3
start() { # start N NOTIFY_SOCKET
	(
		export LISTEN_PID=$BASHPID LISTEN_FDS=1 NOTIFY_SOCKET=$2
		exec "$proxy" --config "$d/config.json" --install-pattern --log-level debug
	) >>"$d/proxy-$1.out" 2>>"$d/proxy-$1.err" &
	echo $! >"$d/daemon-$1.pid"
}
start 1 "@$abstract"
until [ -e "$d/restart" ]; do sleep 0.05; done
kill -TERM "$(cat "$d/daemon-1.pid")"
wait "$(cat "$d/daemon-1.pid")"
echo $? >"$d/daemon-1.status"
echo "$EPOCHREALTIME" >"$d/gap-start"
[ -S "$d/kernel.sock" ] && echo present >"$d/socket-after-1"
cat /proc/sys/kernel/core_pattern >"$d/pattern-after-1"
# No daemon for a while: crashes queue in the backlog of our socket.
sleep 1
echo "$EPOCHREALTIME" >"$d/gap-end"
start 2 "$d/notify.sock"
until [ -e "$d/stop" ]; do sleep 0.05; done
kill -TERM "$(cat "$d/daemon-2.pid")"
wait "$(cat "$d/daemon-2.pid")"
echo $? >"$d/daemon-2.status"
SH
systemd-socket-activate -l "$d/kernel.sock" bash "$d/manager.sh" "$d" "$T_PROXY" "$abstract" \
	>"$d/activate.out" 2>"$d/activate.err" &
activator=$!
t_track_pid "$activator"
t_wait_for 10 test -S "$d/kernel.sock"
# Under coredump-proxy-pattern.service's restrictions: no capability at all, no_new_privs.
unit_like=(setpriv --bounding-set -all --no-new-privs --)
t_ok "install-pattern points core_pattern at the socket" "${unit_like[@]}" "$T_PROXY" install-pattern --config "$d/config.json"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the pattern is the socket's"

crash() {
	echo "$EPOCHREALTIME" >"$d/$1.t"
	(cd "$d" && exec "$T_HELPERS/cdp-crasher" --name "$1") >"$d/$1.out"
}

t0=$EPOCHREALTIME
# Before any daemon: this crash is what activates it.
crash before &
t_track_pid $!
t_wait_for 15 grep -qs "listening on" "$d/proxy-1.err"
t_like "$(cat "$d/proxy-1.err")" "socket-activated: serving the passed socket" "daemon 1 takes the passed socket"
t_like "$(cat "$d/proxy-1.err")" "--install-pattern ignored" "daemon 1 leaves core_pattern to the socket's unit"
handled() { t_event "$d" "$1" >/dev/null; }
t_ok "the crash that activated it is handled" handled before

storm() {
	local i=0
	while [ ! -e "$d/storm-stop" ]; do
		i=$((i + 1))
		crash "s-$i" &
		sleep 0.04
	done
	wait
	echo "$i" >"$d/storm-count"
}
storm &
t_track_pid $!
sleep 1
t_diag "storm running after $(t_elapsed "$t0") s"
touch "$d/restart"
t_wait_for 20 grep -qs "listening on" "$d/proxy-2.err"
sleep 1
touch "$d/storm-stop"
t_wait_for 60 test -s "$d/storm-count"
n=$(cat "$d/storm-count")
t_diag "storm over after $(t_elapsed "$t0") s"
crash after &
t_track_pid $!
t_wait_for 20 grep -qs coredump= "$d/after.out"
touch "$d/stop"
t_wait_for 90 t_gone "$activator"
t_diag "stopped after $(t_elapsed "$t0") s"

t_is "$(cat "$d/daemon-1.status")" 0 "daemon 1 exits 0 on SIGTERM"
t_is "$(cat "$d/daemon-2.status")" 0 "daemon 2 exits 0 on SIGTERM"
t_is "$(cat "$d/socket-after-1" 2>/dev/null)" present "daemon 1 leaves the socket it did not create"
t_is "$(cat "$d/pattern-after-1")" "@@$d/kernel.sock" "daemon 1 leaves the pattern in place"
t_ok "the storm crossed the restart ($n crashes)" test "$n" -ge 30
missing=0 dup=0 nocore=0
for i in $(seq 1 "$n"); do
	c=$(grep -c "\"comm\":\"s-$i\"" "$d/events.jsonl")
	[ "$c" -eq 0 ] && missing=$((missing + 1))
	[ "$c" -gt 1 ] && dup=$((dup + 1))
	grep -qs 'coredump=1' "$d/s-$i.out" || nocore=$((nocore + 1))
done
t_is "$missing" 0 "no crash of the storm without its event"
t_is "$dup" 0 "no crash of the storm with two events"
t_is "$nocore" 0 "every crashing task of the storm got its core"
t_is "$(grep -c '"comm":"after"' "$d/events.jsonl")" 1 "the crash after the restart: one event"
t_is "$(grep -c '"outcome":"stored"' "$d/events.jsonl")" "$((n + 2))" "every crash stored"
t_is "$(ls "$d/store" | grep -c '\.core$')" "$((n + 2))" "one core in the store per crash"
gap=$(cat "$d"/s-*.t | awk -v a="$(cat "$d/gap-start")" -v b="$(cat "$d/gap-end")" '$1 > a && $1 < b' | wc -l)
t_ok "crashes queued while no daemon ran ($gap), handled above" test "$gap" -ge 5
t_ok "daemon 1: READY=1 on the abstract notify socket" grep -q '^abstract READY=1|STATUS=socket-activated' "$d/notify.log"
t_ok "daemon 1: STOPPING=1" grep -q '^abstract STOPPING=1' "$d/notify.log"
t_ok "daemon 2: READY=1 on the path notify socket" grep -q '^path READY=1' "$d/notify.log"
t_ok "daemon 2: STOPPING=1" grep -q '^path STOPPING=1' "$d/notify.log"
t_ok "STATUS= lines count the dumps" grep -Eq 'STATUS=socket-activated on .*: [1-9][0-9]* dumps accepted' "$d/notify.log"
t_ok "restore-pattern gives back the saved pattern" "${unit_like[@]}" "$T_PROXY" restore-pattern --config "$d/config.json"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "core_pattern restored"
t_done
