#!/bin/sh
# The pipe intake on a kernel without the coredump socket (issue 11): the
# daemon on its embedded default with --install-pattern picks the pipe mode
# by itself and routes like on 6.18: a host crash stored, a container's crash
# (its own namespaces, a cgroup named like docker's) delivered to the
# collector in its network namespace, a listener in the host's network
# namespace refused; then with a config: a reject route, the daemon killed
# (the helper keeps the dump) and restarted (it reports it), and on SIGTERM
# core_pattern and core_pipe_limit as they were.
# shellcheck source=../vm-lib.sh
. /cdp/lib.sh

pattern=/proc/sys/kernel/core_pattern
limit=/proc/sys/kernel/core_pipe_limit
store=/var/lib/coredump-proxy
d=/tmp/proxy
mkdir -p $d
pattern_before=$(cat $pattern)
limit_before=$(cat $limit)

# event COMM: the daemon's event line for the crash named COMM (events go to stdout with the default).
event() {
	wait_line "$LOG" "^\{\"event\":\"coredump\".*\"comm\":\"$1\"" 20
}

# start LOG [ARGS...]: the daemon with --install-pattern, its stdout and stderr in LOG.
start() {
	LOG=$1
	shift
	bg "$LOG" coredump-proxy --install-pattern --log-level debug "$@"
	PROXY=$BG_PID
	wait_line "$LOG" 'listening on' 20 >/dev/null
}

ok "no kernel.core_modes: no coredump socket here" test ! -e /proc/sys/kernel/core_modes

# ---- the embedded default -------------------------------------------------------------
start $d/default.log
is "$?" 0 "the daemon starts on its embedded default" || diag "$(tail -n 20 $d/default.log)"
like "$(cat $d/default.log)" 'mode pipe: this kernel has no kernel.core_modes' "it says: pipe mode, and why"
is "$(cat $pattern)" \
	"|/usr/bin/coredump-proxy-pipe /run/coredump-proxy/kernel.sock P=%P s=%s t=%t d=%d" \
	"pattern: the helper next to the daemon, no %F (6.16+)"
ok "core_pipe_limit raised: the kernel holds the task until the pipe is closed" test "$(cat $limit)" -gt 0
is "$(grep -c 'no proc connector' $d/default.log)" 0 "the proc connector subscribes (no coredump filter before 6.6)"
warnings=$(grep -E 'warning|error' $d/default.log | head -n 5)
[ -z "$warnings" ] || diag "$warnings"

out=$(cdp-crasher --name host-crash --size 2097152 --threads 2)
ev=$(event host-crash)
is "$(json "$ev" .outcome)" stored "host crash: stored"
is "$(json "$ev" .mode)" pipe "host crash: mode pipe"
is "$(json "$ev" .pid)" "$(kv "$out" pid)" "host crash: the crashing pid"
is "$(json "$ev" .signal)" 11 "host crash: SIGSEGV"
is "$(json "$ev" .container)" null "host crash: no container"
id=$(json "$ev" .id)
# The embedded default compresses: a zstd frame (magic 28 b5 2f fd), the core's size in the metadata.
ok "host crash: the core is kept compressed" test "$(head -c 4 $store/"$id".core.zst 2>/dev/null | od -An -tx1 | tr -d ' ')" = 28b52ffd
ok "host crash: the core holds the 2 MiB touched" test "$(jq -r .bytes $store/"$id".json)" -gt 2097152
is "$(jq -r .comm $store/"$id".json)" host-crash "host crash: metadata comm (from /proc, through the pidfd)"
like "$(jq -r .exe $store/"$id".json)" 'cdp-crasher$' "host crash: metadata exe"

# A container: its own network, pid and mount namespaces, a cgroup named like docker's.
cid=$(hex64)
ok "a container starts" container_start "system.slice/docker-$cid.scope"
mkdir -p /tmp/ct-dumps
bg /tmp/ct-collector.log container_run coredump-collector --compress 0 --dir /tmp/ct-dumps --accept-pipe
ok "its collector listens in its network namespace" wait_line /tmp/ct-collector.log 'listening on' 10
out=$(container_run cdp-crasher --name ct-crash --size 1048576)
ev=$(event ct-crash)
is "$(json "$ev" .outcome)" delivered "container crash: delivered to its collector" ||
	diag "$(grep -E 'warning|error' $d/default.log | tail -n 5)"
is "$(json "$ev" .mode)" pipe "container crash: mode pipe"
is "$(json "$ev" .container.runtime)" docker "container crash: runtime docker"
is "$(json "$ev" .container.id)" "$cid" "container crash: its id"
id=$(json "$ev" .id)
wait_for 5 test -f /tmp/ct-dumps/"$id".json
ok "container crash: the collector wrote the core" is_elf /tmp/ct-dumps/"$id".core
is "$(jq -r .pid /tmp/ct-dumps/"$id".json)" "$(kv "$out" pid)" "container crash: the collector sees the pid of its namespace"
is "$(jq -r .mode /tmp/ct-dumps/"$id".json)" pipe "container crash: the collector's metadata says pipe"

# A container on the host's network: whoever listens there is not its collector.
hid=$(hex64)
ok "a container on the host network starts" container_start "system.slice/docker-$hid.scope" -p -m -f --mount-proc
mkdir -p /tmp/hostnet
bg /tmp/hostnet.log container_run coredump-collector --compress 0 --dir /tmp/hostnet --accept-pipe
wait_line /tmp/hostnet.log 'listening on' 10 >/dev/null
container_run cdp-crasher --name hostnet-crash >/dev/null
ev=$(event hostnet-crash)
is "$(json "$ev" .reason)" host-network "host-network listener: refused"
is "$(json "$ev" .outcome)" stored "host-network listener: stored on the host instead"
is "$(ls /tmp/hostnet | wc -l)" 0 "host-network listener: got nothing"

# Not dumpable: the kernel runs no helper; the proc connector tells the daemon (without the
# coredump filter of 6.6 it sees every fork and exit too, and sorts them out).
out=$(cdp-crasher --name quiet-crash --non-dumpable)
# By pid: a slow daemon (sanitizers under TCG) may find the task gone before it reads its comm.
ev=$(wait_line $LOG "\"event\":\"coredump-lost\".*\"pid\":$(kv "$out" pid)," 20)
# Why is known only where the pidfd tells dumpability (6.16+): here it says not-received.
like "$(json "$ev" .reason)" '^not-(dumpable|received)$' "a crash the helper never saw: a coredump-lost line" ||
	diag "$(grep -E 'quiet|lost|connector|process events' $LOG | tail -n 5)"

bg_stop "$PROXY"
is "$?" 0 "the daemon exits 0 on SIGTERM"
is "$(cat $pattern)" "$pattern_before" "core_pattern restored"
is "$(cat $limit)" "$limit_before" "core_pipe_limit restored"

# ---- a config: a reject route; the daemon killed and restarted --------------------------
mkdir -p /etc/coredump-proxy
cat >/etc/coredump-proxy/config.json <<EOF
{
  "listen": { "path": "$d/kernel.sock" },
  "events": "$d/events.jsonl",
  "store": { "directory": "$d/store", "compress": 0 },
  "routes": [
    { "name": "noisy", "match": { "comm": "noisy-*" }, "action": "reject" },
    { "name": "host", "match": {}, "action": "store" }
  ]
}
EOF
LOG_EVENTS=$d/events.jsonl
start $d/config.log
out=$(cdp-crasher --name noisy-crash --size 1048576)
ev=$(wait_line $LOG_EVENTS '"comm":"noisy-crash"' 20)
is "$(json "$ev" .outcome)" rejected "reject route: rejected"
is "$(json "$ev" '.bytes // "none"')" none "reject route: no core kept"
is "$(ls $d/store | grep -c '\.core$')" 0 "reject route: nothing in the store"

kill -KILL "$PROXY"
wait "$PROXY" 2>/dev/null
like "$(cat $pattern)" '^\|/usr/bin/coredump-proxy-pipe' "killed: the pattern stays"
out=$(cdp-crasher --name orphan-crash --size 1048576)
id=$(ls $d/store/.unreported 2>/dev/null)
ok "killed: the helper kept the core in the host store" is_elf $d/store/"$id".core ||
	diag "$(find $d/store; dmesg | grep coredump-proxy-pipe | tail -n 3)"
is "$(jq -r .reason $d/store/"$id".json 2>&1)" daemon-unavailable "killed: metadata reason daemon-unavailable"
is "$(jq -r .pid $d/store/"$id".json 2>&1)" "$(kv "$out" pid)" "killed: metadata pid"
is "$(jq -r .comm $d/store/"$id".json 2>&1)" orphan-crash "killed: metadata comm"

start $d/restart.log
ev=$(wait_line $LOG_EVENTS '"comm":"orphan-crash"' 20)
is "$(json "$ev" .reason)" daemon-unavailable "restart: the kept dump is reported"
is "$(json "$ev" .id)" "$id" "restart: with its id"
is "$(ls -A $d/store/.unreported)" "" "restart: nothing left to report"
bg_stop "$PROXY"
is "$?" 0 "restart: exits 0 on SIGTERM"
is "$(cat $pattern)" "$pattern_before" "restart: core_pattern restored (the one before the first run)"
is "$(cat $limit)" "$limit_before" "restart: core_pipe_limit restored"

# ---- a socket protocol asked for where there is none: an error, and the pattern left alone ----
sed -i 's|"listen": { "path": "'$d'/kernel.sock" }|"listen": { "path": "'$d'/kernel.sock", "protocol": "request" }|' \
	/etc/coredump-proxy/config.json
coredump-proxy --install-pattern >$d/request.log 2>&1
is "$?" 1 "protocol request with --install-pattern: the daemon refuses to start"
like "$(cat $d/request.log)" 'no kernel.core_modes.*core_pattern left alone' "it says why"
is "$(cat $pattern)" "$pattern_before" "core_pattern untouched"
is "$(cat $limit)" "$limit_before" "core_pipe_limit untouched"

done_testing
