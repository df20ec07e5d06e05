#!/bin/bash
# Nothing on the event loop may block (issue 10). Events go to stdout through
# a pipe whose reader never reads: crashes are still stored, `status` still
# answers at once and counts the lines it had to drop, and the lines come out
# once the reader resumes. A reload with the same store directory keeps the
# one store (its usage counts a dump written across the reload), and the
# reload's work runs off the loop: status answers meanwhile, still from the old
# configuration.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq python3 mkfifo
t_core_pattern_save

t_tmpdir
d=$T_TMP
status() { timeout 10 "$T_PROXY" --config "$d/config.json" status; }

# ---- events to a stdout nobody reads ------------------------------------------------------------
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]' '"limits": { "max_concurrent": 2 }'
sed -i "s|\"events\": \"$d/events.jsonl\"|\"events\": \"-\"|" "$d/config.json"
mkfifo "$d/events.fifo"
: >"$d/proxy.err"
# The reader: holds the pipe (shrunk to 4 KiB) and reads nothing until SIGUSR1.
cat >"$d/reader.py" <<'PY'
import fcntl, os, signal, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
resume = []
signal.signal(signal.SIGUSR1, lambda *a: resume.append(1))
open(sys.argv[2] + ".ready", "w").close()
while not resume:
    signal.pause()
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(os.read(fd, 65536))
PY
python3 "$d/reader.py" "$d/events.fifo" "$d/drained" &
reader=$!
t_track_pid "$reader"
t_wait_for 10 test -e "$d/drained.ready"
"$T_PROXY" --config "$d/config.json" --install-pattern --log-level debug >"$d/events.fifo" 2>>"$d/proxy.err" &
T_PROXY_PID=$!
t_track_pid "$T_PROXY_PID"
t_ok "daemon starts with its events to a pipe nobody reads" t_wait_for 10 grep -q "listening on" "$d/proxy.err"

stored=0
for i in $(seq 1 12); do
	(cd "$d" && exec "$T_HELPERS/cdp-crasher" --name "unread-$i") >/dev/null &
	t_track_pid $!
	t_wait_for 5 bash -c "[ \$(ls '$d/store' 2>/dev/null | grep -c '\.core$') -ge $i ]" && stored=$i
done
t_is "$stored" 12 "with the event pipe full, twelve crashes are stored one after another"
start=$EPOCHREALTIME
st=$(status)
secs=$(t_elapsed "$start")
t_is "$(t_jq "$st" .pid)" "$T_PROXY_PID" "status answers"
t_ok "within 2 s (took $secs s)" t_lt "$secs" 2

# Past the sink's queue (4 MiB): one line per spoofed connection, until lines are dropped.
cat >"$d/flood.py" <<'PY'
import socket, sys, json, subprocess
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
    except OSError:
        pass
    s.close()
PY
dropped=0
for round in 1 2 3 4; do
	timeout 20 python3 "$d/flood.py" "$d/kernel.sock" 10000
	sleep 1
	dropped=$(t_jq "$(status)" .config.events_dropped)
	[ "${dropped:-0}" -gt 0 ] 2>/dev/null && break
	[ -n "$dropped" ] || break # status did not answer
done
t_diag "events_dropped after $round floods of 10000 connections: $dropped"
t_ok "status counts the lines the full queue dropped" test "${dropped:-0}" -gt 0 2>/dev/null
start=$EPOCHREALTIME
st=$(status)
t_ok "status still answers at once (took $(t_elapsed "$start") s)" t_lt "$(t_elapsed "$start")" 2
(cd "$d" && exec "$T_HELPERS/cdp-crasher" --name unread-last) >/dev/null &
t_track_pid $!
t_ok "a crash after the flood is stored too" \
	t_wait_for 10 bash -c "[ \$(ls '$d/store' | grep -c '\.core$') -ge 13 ]"

kill -USR1 "$reader"
t_ok "once the reader resumes, the lines come out" \
	t_wait_for 10 bash -c "[ \$(grep -c '\"comm\":\"unread-[0-9]*\"' '$d/drained') -ge 12 ]"
t_is "$(grep -c '"comm":"unread-[0-9]*"' "$d/drained")" 12 "every crash has its line, written late"
t_proxy_stop
t_is "$?" 0 "the daemon stops cleanly"

# ---- a reload with the same store directory: one store ------------------------------------------
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"first","match":{},"action":"store"}]'
# Byte-exact usage below: no crash summary growing <id>.json after it was counted (docs/metadata.md).
jq -c '.store.summary = false' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
t_ok "daemon starts (reloads)" t_proxy_start "$d"
"$T_HELPERS/cdp-crasher" --name before-reload >/dev/null
t_event "$d" before-reload >/dev/null
# A dump in flight across the reload: its stream comes slowly (40 FUSE pages, 150 ms each: 6 s,
# time enough to see it stream, reload and look while it is still in flight on a busy machine).
if [ -c /dev/fuse ]; then
	mkdir -p "$d/mnt"
	"$T_HELPERS/cdp-fuse-crasher" --dir "$d/mnt" --name across-reload --slow-pages 40 --slow-ms 150 \
		>"$d/slow.out" 2>&1 &
	t_track_pid $!
	streaming() { status | jq -e '.in_flight | map(select(.state == "streaming")) | length == 1' >/dev/null; }
	t_ok "a slow dump is being written" t_wait_for 5 streaming
	sed -i 's/"name":"first"/"name":"second"/' "$d/config.json"
	kill -HUP "$T_PROXY_PID"
	t_ok "the reload (same store directory) is done" t_wait_for 5 grep -q "configuration reloaded" "$d/proxy.err"
	t_ok "while the dump is still in flight" bash -c "! grep -q across-reload '$d/events.jsonl'"
	ev=$(t_event "$d" across-reload 15)
	t_is "$(t_jq "$ev" .outcome)" stored "the dump across the reload is stored"
	st=$(status)
	on_disk=$(find "$d/store" -maxdepth 1 -type f \( -name '*.core' -o -name '*.json' \) -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }')
	t_is "$(t_jq "$st" .config.store.usage_bytes)" "$on_disk" \
		"status usage counts every dump in the store, also the one written across the reload"
	t_is "$(t_jq "$st" '.config.routes[0].name')" second "the reloaded config is in force"
else
	t_diag "no /dev/fuse: the dump across a reload is not tested"
fi

# ---- a reload is worked off the loop ----------------------------------------------------------------
# A slow one (CDP_FAULT=reload-delay makes the reload's thread wait 5 s before it
# reads the config, as a config on a slow disk would): status answers meanwhile,
# from the old configuration.
t_proxy_stop
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]' '"limits": { "max_concurrent": 2 }'
CDP_FAULT=reload-delay:5000 t_proxy_start "$d"
sed -i 's|"max_concurrent": 2|"max_concurrent": 3|' "$d/config.json"
before=$(t_count "configuration reloaded" "$d/proxy.err")
kill -HUP "$T_PROXY_PID"
sleep 0.5
start=$EPOCHREALTIME
st=$(status)
secs=$(t_elapsed "$start")
t_ok "status during a slow reload answers within 2 s (took $secs s)" t_lt "$secs" 2
t_is "$(t_jq "$st" .config.limits.max_concurrent)" 2 "and answers before the reload is done (the old config still in force)"
t_ok "the reload completes" t_wait_for 20 t_count_above "configuration reloaded" "$d/proxy.err" "$before"
t_is "$(t_jq "$(status)" .config.limits.max_concurrent)" 3 "then the new config is in force"

# A new store directory cannot be taken on by a reload: the daemon may write only to the
# store it started with (Landlock); it is refused whole, and says so.
mkdir -p "$d/big"
sed -i "s|\"directory\": \"$d/store\"|\"directory\": \"$d/big\"|" "$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a reload naming another store is refused: it takes effect on restart" \
	t_wait_for 20 grep -q "a new store takes effect on restart" "$d/proxy.err"
t_is "$(t_jq "$(status)" .config.store.directory)" "$d/store" "the store it started with stays in force"
t_proxy_stop
t_done
