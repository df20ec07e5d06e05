#!/bin/bash
# `coredump-proxy metrics`: an unprivileged exporter (here as nobody) reads
# the daemon's counters from its metrics socket (<socket>.metrics, counters
# only: nobody gets nothing else there) and serves Prometheus text on
# /metrics, /healthz and /readyz. The text is valid (promtool from Debian's
# prometheus package when it can be had, and a strict parser of our own),
# and its numbers are the daemon's after a known number of crashes; /readyz
# is false before the daemon serves and after it stops.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq python3 setpriv
t_core_pattern_save

t_tmpdir
d=$T_TMP
chmod 0755 "$d" # the hostPath socket directory: others may reach the metrics socket in it
t_proxy_config "$d" request '[
  {"name":"no","match":{"comm":"mx-rej*"},"action":"reject"},
  {"name":"host","match":{},"action":"store"}]'
cp "$d/config.json" "$d/exporter.json"
chmod 0644 "$d/exporter.json"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
get() { # get PATH: "CODE\nBODY"
	python3 - "http://127.0.0.1:$port$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    code, body = r.status, r.read().decode()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read().decode()
print(code)
print(body, end="")
PY
}
code() { get "$1" | head -n 1; }

setpriv --reuid=65534 --regid=65534 --clear-groups "$T_PROXY" --config "$d/exporter.json" metrics --listen "127.0.0.1:$port" 2>"$d/exporter.err" &
exporter=$!
t_track_pid "$exporter"
t_ok "the exporter listens" t_wait_for 10 grep -q "serving /metrics" "$d/exporter.err"
t_is "$(awk '/^Uid:/ { print $2 }' "/proc/$exporter/status")" 65534 "it runs as nobody"
t_is "$(awk '/^CapEff:/ { print $2 }' "/proc/$exporter/status")" 0000000000000000 "with no capability"
t_is "$(code /healthz)" 200 "/healthz: 200 while it runs"
t_is "$(code /readyz)" 503 "/readyz: 503 before the daemon serves"
t_is "$(get /metrics | sed -n 's/^coredump_proxy_up //p')" 0 "/metrics: up 0 before the daemon serves"
t_is "$(code /nothing)" 404 "another path: 404"

t_ok "the daemon starts" t_proxy_start "$d"
t_is "$(stat -c %a "$d/kernel.sock.metrics")" 666 "the metrics socket is open to anyone"
t_is "$(stat -c %a "$d/kernel.sock.control")" 600 "the control socket stays root's"
ready() { [ "$(code /readyz)" = 200 ]; }
t_ok "/readyz: 200 once it serves" t_wait_for 5 ready
t_like "$(t_as 65534 "$T_PROXY" --config "$d/exporter.json" status 2>&1)" "no running daemon answers" \
	"nobody still gets no status from the control socket"
reply=$(printf '{"request":"unregister","id":"x"}' | t_as 65534 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR); print(s.recv(65536).decode())' "$d/kernel.sock.metrics" 2>&1)
t_like "$reply" "status requests only" "the metrics socket answers nothing but counters"
# An fd sent to the public socket would be closed by the kernel inside the daemon's recvmsg(), on
# its event loop; a socket lingering over a full queue makes that close block. The kernel refuses it.
fdsend=$(t_as 65534 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
r, w = socket.socketpair()
try:
    socket.send_fds(s, [b"{}"], [r.fileno()]); print("sent")
except PermissionError:
    print("refused")' "$d/kernel.sock.metrics" 2>&1)
t_is "$fdsend" refused "an fd sent to the metrics socket is refused by the kernel (SO_PASSRIGHTS off)"
t_ok "the daemon still serves its control socket" bash -c "'$T_PROXY' --config '$d/config.json' status >/dev/null"

for i in 1 2 3; do "$T_HELPERS/cdp-crasher" --name "mx-store-$i" --size 65536 >/dev/null; done
for i in 1 2; do "$T_HELPERS/cdp-crasher" --name "mx-rej-$i" >/dev/null; done
t_ok "five events" t_wait_for 15 bash -c "[ \$(grep -c '\"comm\":\"mx-' '$d/events.jsonl') -ge 5 ]"
t_wait_for 5 bash -c "[ \"\$('$T_PROXY' --config '$d/config.json' status | jq .in_flight_total)\" = 0 ]"

page=$(get /metrics)
t_is "$(head -n 1 <<<"$page")" 200 "/metrics: 200"
tail -n +2 <<<"$page" >"$d/metrics.txt"
t_ok "the text parses strictly" python3 "$top_srcdir/tests/metrics-check.py" <"$d/metrics.txt"
samples=$(python3 "$top_srcdir/tests/metrics-check.py" <"$d/metrics.txt")
m() { jq -r --arg k "$1" '.[$k] // "absent"' <<<"$samples"; }

promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
	cache=$top_builddir/tests/promtool
	if [ ! -x "$cache/usr/bin/promtool" ]; then
		mkdir -p "$cache" && (cd "$cache" && apt-get download prometheus >/dev/null 2>&1 &&
			dpkg -x prometheus_*.deb . && rm -f prometheus_*.deb)
	fi
	[ -x "$cache/usr/bin/promtool" ] && promtool=$cache/usr/bin/promtool
fi
if [ -n "$promtool" ]; then
	t_ok "promtool check metrics passes" bash -c "'$promtool' check metrics <'$d/metrics.txt' 2>&1 | tee '$d/promtool.out'; exit \${PIPESTATUS[0]}"
	t_is "$(cat "$d/promtool.out")" "" "promtool has nothing to say"
else
	t_diag "promtool not available (no prometheus package): the strict parser alone checked the text"
fi

st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(m 'coredump_proxy_up')" 1 "up 1"
t_is "$(m 'coredump_proxy_dumps_total{outcome="stored",reason="route",runtime="host"}')" \
	"$(t_jq "$st" .outcomes.stored.reasons.route)" "stored dumps: as many as status says"
t_is "$(m 'coredump_proxy_dumps_total{outcome="stored",reason="route",runtime="host"}')" 3 "three of them"
t_is "$(m 'coredump_proxy_dumps_total{outcome="rejected",reason="route",runtime="host"}')" \
	"$(t_jq "$st" .outcomes.rejected.total)" "rejected dumps: as many as status says"
t_is "$(m 'coredump_proxy_dumps_total{outcome="rejected",reason="route",runtime="host"}')" 2 "two of them"
t_is "$(m 'coredump_proxy_dump_bytes_total')" \
	"$(jq -s '[.[] | select(.comm | startswith("mx-")) | .bytes // 0] | add' "$d/events.jsonl")" \
	"bytes: the sum of the events' bytes"
t_is "$(m 'coredump_proxy_dump_duration_seconds_count')" 5 "durations: one per dump"
t_is "$(m 'coredump_proxy_dumps_lost_total')" "$(t_jq "$st" .lost.total)" "lost: as status says"
t_is "$(m 'coredump_proxy_dumps_in_flight')" 0 "nothing in flight"
t_is "$(m 'coredump_proxy_accept_queue_length')" 0 "nothing queued"
t_like "$(grep '^coredump_proxy_build_info' "$d/metrics.txt")" 'version="[^"]+",daemon_version="[^"]+",mode="request"' \
	"build_info: versions and mode"

t_ok "the daemon stops" t_proxy_stop
t_is "$(code /readyz)" 503 "/readyz: 503 once it stopped"
t_is "$(code /healthz)" 200 "/healthz: still 200"
# One server answers the probes: a client that sends a byte every second must not hold it (one
# deadline per request, not per read).
python3 - "$port" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    for b in b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20:
        s.send(bytes([b])); time.sleep(1)
except OSError:
    pass
PY
slow=$!
t_track_pid "$slow"
sleep 0.5
start=$EPOCHREALTIME
t_is "$(code /healthz)" 200 "/healthz answers beside a client that trickles its request"
t_ok "within the request deadline (2 s), not the trickler's 20 s" t_lt "$(t_elapsed "$start")" 8
kill "$slow" 2>/dev/null
t_done
