#!/bin/bash
# The pipe intake on this kernel, forced by config ("protocol": "pipe"): the
# kernel runs coredump-proxy-pipe for every crash and the daemon takes the
# pipe from it. Host crashes are stored, a container's crash goes to the
# collector in its network namespace, a reject route closes the pipe unread,
# a listener in the host's network namespace is refused; with the daemon
# killed the helper keeps the dump in the host store itself, with the daemon
# stopped (SIGSTOP) it does so once its bound passes, and the restarted
# daemon reports those dumps; core_pattern and core_pipe_limit come back.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_root
t_require_cgroup2
t_require_cmd jq unshare nsenter python3 setpriv
t_core_pattern_save
[ -x "$top_builddir/coredump-proxy-pipe" ] || t_skip_all "coredump-proxy-pipe is not built"

routes='[
  {"name":"noisy","match":{"comm":"noisy-*"},"action":"reject"},
  {"name":"giveback","match":{"comm":"giveback-*"},"action":"forward","address":"@cdp-pipe-giveback","fallback":"store"},
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}
]'
limit_before=$(cat /proc/sys/kernel/core_pipe_limit)

# crash COMM [CRASHER ARGS...]: a host crash; sets out and ev.
crash() {
	local comm=$1
	shift
	out=$("$T_HELPERS/cdp-crasher" --name "$comm" "$@")
	ev=$(t_event "$d" "$comm")
}

t_tmpdir
d=$T_TMP
t_proxy_config "$d" pipe "$routes" '"limits": { "collector_timeout": "1s" }'
t_ok "daemon starts (pipe)" t_proxy_start "$d"
t_ok "it says which mode and why" grep -q 'mode pipe: listen.protocol is "pipe"' "$d/proxy.err"
pattern=$(cat /proc/sys/kernel/core_pattern)
# %F only where the kernel has it (core_modes came with it, 6.16).
want_f=""
[ -e /proc/sys/kernel/core_modes ] && want_f=" F=%F"
t_is "$pattern" "|$(readlink -f "$top_builddir")/coredump-proxy-pipe $d/kernel.sock P=%P s=%s t=%t d=%d$want_f" \
	"pattern: the helper next to the daemon, the socket, the kernel's facts"
t_ok "core_pipe_limit raised so the kernel holds the task" test "$(cat /proc/sys/kernel/core_pipe_limit)" -gt 0
t_ok "the pipe intake is root's alone" test "$(stat -c %a:%u "$d/kernel.sock.pipe")" = 600:0
t_ok "settings for the helper written" grep -qx "store=$d/store" "$d/kernel.sock.pipe-settings"

# ---- a host crash, stored ------------------------------------------------------
crash host-pipe --size 4194304 --threads 4
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" stored "host: stored"
t_is "$(t_jq "$ev" .reason)" route "host: reason route"
t_is "$(t_jq "$ev" .mode)" pipe "host: mode pipe"
t_is "$(t_jq "$ev" .pid)" "$(t_kv -t "$out" pid)" "host: pid is the crashing task's"
t_is "$(t_jq "$ev" .signal)" 11 "host: signal SIGSEGV"
t_ok "host: the core is ELF" t_is_elf "$d/store/$id.core"
t_ok "host: the core holds the 4 MiB touched" test "$(stat -c %s "$d/store/$id.core")" -ge 4194304
t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$d/store/$id.core")" "host: event bytes = core size"
t_is "$(jq -r .mode "$d/store/$id.json")" pipe "host: metadata mode pipe"
t_like "$(jq -r .cmdline "$d/store/$id.json")" "cdp-crasher --name host-pipe" "host: metadata has the cmdline"
t_is "$(t_kv -t "$out" coredump)" 1 "host: the task's wait status shows a core"

# ---- reject: the pipe closed unread --------------------------------------------------
crash noisy-pipe --size 1048576
t_is "$(t_jq "$ev" .outcome)" rejected "reject route: rejected"
t_is "$(t_jq "$ev" .mode)" pipe "reject route: mode pipe"
t_is "$(t_jq "$ev" '.bytes // "none"')" none "reject route: the event has no bytes: no core kept"
t_is "$(ls "$d/store" | grep -c '\.core$')" 1 "reject route: nothing stored"

# ---- a container: forwarded to its collector, in its network namespace -------------------
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
ct_cg=$T_CG ct_id=${T_CG##*docker-}
ct_id=${ct_id%.scope}
t_container_start "$ct_cg"
ct=$T_HOLDER
mkdir -p "$d/ct"
t_container_run "$ct" "$ct_cg" "$T_COLLECTOR" --compress 0 --dir "$d/ct" --accept-pipe 2>"$d/ct.log" &
t_track_pid $!
t_ok "a collector listens in the container" t_wait_for 10 grep -qs "listening on" "$d/ct.log"
out=$(t_container_run "$ct" "$ct_cg" "$T_HELPERS/cdp-crasher" --name ct-pipe --size 2097152)
ev=$(t_event "$d" ct-pipe)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "container: delivered to its collector"
t_is "$(t_jq "$ev" .mode)" pipe "container: mode pipe"
t_is "$(t_jq "$ev" .container.runtime)" docker "container: runtime docker"
t_is "$(t_jq "$ev" .container.id)" "$ct_id" "container: its id"
t_wait_for 5 test -f "$d/ct/$id.json"
t_ok "container: the collector wrote the core" t_is_elf "$d/ct/$id.core"
t_is "$(jq -r .mode "$d/ct/$id.json")" pipe "container: the collector's metadata says mode pipe"
t_is "$(jq -r .pid "$d/ct/$id.json")" "$(t_kv -t "$out" pid)" "container: the collector sees its own pid"
t_is "$(t_kv -t "$out" coredump)" 1 "container: the task's wait status shows a core"

# ---- a collector that gives the pipe back: the fallback keeps the whole core, and only then --------
# It answers "consumed": false; whether it read nothing is checked on the pipe itself (tee: its head
# is still the ELF magic), so one that read some and says otherwise gets nothing kept.
cat >"$d/giveback.py" <<'PY'
import array, json, os, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind("\0cdp-pipe-giveback")
srv.listen(4)
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    req = json.loads(c.recv(65536))
    c.send(b'{"accept": true}')
    fds = array.array("i")
    msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in anc:
        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if req["comm"].startswith("giveback-lie"):
        os.read(fds[0], 100)
    for fd in fds:
        os.close(fd)
    c.send(json.dumps({"consumed": False, "error": "no room"}).encode())
    c.close()
PY
t_container_run "$ct" "$ct_cg" python3 "$d/giveback.py" >"$d/giveback.log" 2>&1 &
t_track_pid $!
t_wait_for 10 grep -qs listening "$d/giveback.log"
t_container_run "$ct" "$ct_cg" "$T_HELPERS/cdp-crasher" --name giveback-ok --size 1048576 >/dev/null
ev=$(t_event "$d" giveback-ok)
t_is "$(t_jq "$ev" .outcome)/$(t_jq "$ev" .reason)/$(t_jq "$ev" .fallback)" stored/collector-error/true \
	"given back unread: the fallback stored it"
t_ok "given back unread: the whole core, from its first byte" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_container_run "$ct" "$ct_cg" "$T_HELPERS/cdp-crasher" --name giveback-lie --size 1048576 >/dev/null
ev=$(t_event "$d" giveback-lie)
t_is "$(t_jq "$ev" .outcome)/$(t_jq "$ev" .reason)" failed/collector-error \
	"given back after reading some: nothing kept (a core without its start)"

# ---- a listener in the host's network namespace is never a container's collector -----------
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
hn_cg=$T_CG
t_container_start "$hn_cg" --pid --mount --fork --mount-proc
hn=$T_HOLDER
mkdir -p "$d/hostnet"
t_container_run "$hn" "$hn_cg" "$T_COLLECTOR" --compress 0 --dir "$d/hostnet" --accept-pipe --address @cdp-pipe-hostnet-$$ 2>"$d/hostnet.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/hostnet.log"
t_container_run "$hn" "$hn_cg" "$T_HELPERS/cdp-crasher" --name hostnet-pipe >/dev/null
ev=$(t_event "$d" hostnet-pipe)
t_is "$(t_jq "$ev" .reason)" host-network "host network: never forwarded"
t_is "$(t_jq "$ev" .outcome)" stored "host network: the fallback stored it"
t_is "$(ls "$d/hostnet" | wc -l)" 0 "host network: the listener got nothing"

# ---- the daemon killed: the helper keeps the dump itself -------------------------------
kill -KILL "$T_PROXY_PID"
wait "$T_PROXY_PID" 2>/dev/null
t_like "$(cat /proc/sys/kernel/core_pattern)" '^\|.*coredump-proxy-pipe' "killed: the pattern is still ours"
out=$("$T_HELPERS/cdp-crasher" --name orphan-pipe --size 1048576)
t_is "$(t_kv -t "$out" coredump)" 1 "killed: the crash dumped core"
spooled=$(ls "$d/store/.unreported" 2>/dev/null)
t_is "$(printf '%s\n' "$spooled" | grep -c .)" 1 "killed: one event spooled for the daemon"
id=$spooled
t_ok "killed: the helper stored the core in the host store" t_is_elf "$d/store/$id.core"
t_is "$(jq -r .reason "$d/store/$id.json")" daemon-unavailable "killed: metadata reason daemon-unavailable"
t_is "$(jq -r .outcome "$d/store/$id.json")" stored "killed: metadata outcome stored"
t_is "$(jq -r .comm "$d/store/$id.json")" orphan-pipe "killed: metadata comm"
t_is "$(jq -r .pid "$d/store/$id.json")" "$(t_kv -t "$out" pid)" "killed: metadata pid"
t_is "$(jq -r .mode "$d/store/$id.json")" pipe "killed: metadata mode pipe"
t_is "$(jq -r .bytes "$d/store/$id.json")" "$(stat -c %s "$d/store/$id.core")" "killed: metadata bytes = core size"
t_is "$(grep -c orphan-pipe "$d/events.jsonl")" 0 "killed: no event yet (nobody to write it)"

# ---- restarted: it reports the dump its helper kept ---------------------------------------
t_ok "daemon restarts" t_proxy_start "$d"
ev=$(t_event "$d" orphan-pipe)
t_is "$(t_jq "$ev" .id)" "$id" "restart: the event names the kept dump"
t_is "$(t_jq "$ev" .outcome)" stored "restart: outcome stored"
t_is "$(t_jq "$ev" .reason)" daemon-unavailable "restart: reason daemon-unavailable"
t_is "$(t_jq "$ev" .core)" "$d/store/$id.core" "restart: the event names the core"
t_is "$(t_jq "$ev" .mode)" pipe "restart: mode pipe"
t_is "$(ls -A "$d/store/.unreported")" "" "restart: the spool is empty"
t_proxy_stop
t_proxy_start "$d"
t_is "$(grep -c orphan-pipe "$d/events.jsonl")" 1 "restart: reported once, not at every start"

# ---- a reload cannot move the store, and the helper's settings stay those of the start ---------
settings_before=$(cat "$d/kernel.sock.pipe-settings")
sed -i "s|\"directory\": \"$d/store\"|\"directory\": \"$d/store2\"|" "$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "reload: a new store is refused (the sandbox writes only to the old one)" \
	t_wait_for 10 grep -q "reload: store.directory $d/store2" "$d/proxy.err"
t_is "$(cat "$d/kernel.sock.pipe-settings")" "$settings_before" "reload: the helper's settings are unchanged"
sed -i "s|\"directory\": \"$d/store2\"|\"directory\": \"$d/store\"|" "$d/config.json"

# ---- the daemon not answering: the helper waits a bounded time, then keeps it ----------------
daemon_pid=$(t_proxy_daemon)
kill -STOP "$daemon_pid"
start=$EPOCHREALTIME
out=$("$T_HELPERS/cdp-crasher" --name stuck-pipe --size 1048576)
t_ok "stopped daemon: the crash ends within the helper's bound ($(t_elapsed "$start") s)" \
	t_lt "$(t_elapsed "$start")" 10
id=$(ls "$d/store/.unreported" 2>/dev/null | head -n 1)
t_ok "stopped daemon: the helper kept the core" t_is_elf "$d/store/$id.core"
kill -CONT "$daemon_pid"
sleep 1
t_is "$(grep -c stuck-pipe "$d/events.jsonl")" 0 "stopped daemon: the daemon left the pipe to its helper (no event)"
t_ok "stopped daemon: the daemon logged that the helper kept it" \
	t_wait_for 5 grep -qE "keeps the dump itself|the helper kept the dump itself" "$d/proxy.err"
# The proc connector saw the crash; the hand-off came, late: not a lost dump (after the accounting's grace).
sleep 6
t_is "$(grep -c '"coredump-lost"' "$d/events.jsonl")" 0 "stopped daemon: the late hand-off is not counted as lost"

# ---- the fallbacks of older kernels, here: /proc for PIDFD_GET_INFO (6.13), the namespace
# ioctls (6.11) and SO_PEERPIDFD (6.5), forced by fault injection ----------------------------
t_ok "daemon stops" t_proxy_stop
if grep -q '^#define CDP_FAULT_INJECTION 1' "$top_builddir/config.h" 2>/dev/null; then
	CDP_FAULT=pidfd-compat:7 t_proxy_start "$d"
	t_ok "compat: the daemon runs on the fallbacks" grep -q "taken for absent" "$d/proxy.err"
	out=$("$T_HELPERS/cdp-crasher" --name compat-host --size 1048576)
	ev=$(t_event "$d" compat-host)
	t_is "$(t_jq "$ev" .outcome)" stored "compat: host crash stored"
	t_is "$(t_jq "$ev" .pid)" "$(t_kv -t "$out" pid)" "compat: its pid, from /proc through the pidfd"
	t_is "$(t_jq "$ev" .uid)" 0 "compat: its uid"
	t_is "$(t_jq "$ev" .signal)" 11 "compat: its signal (the kernel's %s)"
	out=$(t_container_run "$ct" "$ct_cg" "$T_HELPERS/cdp-crasher" --name compat-ct --size 1048576)
	ev=$(t_event "$d" compat-ct)
	t_is "$(t_jq "$ev" .outcome)" delivered \
		"compat: delivered (the collector proven by SO_PEERCRED and its fd table, the netns through /proc)"
	t_is "$(t_jq "$ev" .container.id)" "$ct_id" "compat: the container from /proc/<pid>/cgroup"
	t_is "$(jq -r .pid "$d/ct/$(t_jq "$ev" .id).json")" "$(t_kv -t "$out" pid)" \
		"compat: the collector sees the pid of its namespace"
	# Without the pidfd's coredump mask (6.16) a setuid-style dump is known by the kernel's %d alone.
	t_sysctl_set /proc/sys/fs/suid_dumpable 2
	install -m 4755 -o root "$T_HELPERS/cdp-crasher" "$d/suid-crasher"
	t_container_run "$ct" "$ct_cg" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$d/suid-crasher" --name compat-suid >/dev/null
	ev=$(t_event "$d" compat-suid)
	t_is "$(t_jq "$ev" .reason)/$(t_jq "$ev" .outcome)" sensitive/stored \
		"compat: a setuid-style dump (d=2) is never forwarded"
	t_is "$(jq -r .sensitive "$d/store/$(t_jq "$ev" .id).json")" true "compat: its metadata says sensitive"
else
	echo "ok $((T_COUNT += 1)) - compat: the fallbacks on this kernel # SKIP built without --enable-fault-injection"
	t_proxy_start "$d"
fi

# ---- stop: the pattern and core_pipe_limit come back ------------------------------------------
t_ok "daemon stops on SIGTERM" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "stop: core_pattern restored"
t_is "$(cat /proc/sys/kernel/core_pipe_limit)" "$limit_before" "stop: core_pipe_limit restored"
t_ok "stop: the pipe intake is gone" test ! -e "$d/kernel.sock.pipe"
t_ok "stop: the helper's settings stay (it needs them while no daemon runs)" test -f "$d/kernel.sock.pipe-settings"

# ---- killed, then `restore-pattern`: both come back ---------------------------------------------
t_ok "daemon starts again" t_proxy_start "$d"
kill -KILL "$T_PROXY_PID"
wait "$T_PROXY_PID" 2>/dev/null
out=$("$T_PROXY" restore-pattern --config "$d/config.json" 2>&1)
t_like "$out" "core_pipe_limit restored to $limit_before" "restore-pattern: says it restored core_pipe_limit"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "restore-pattern: core_pattern restored"
t_is "$(cat /proc/sys/kernel/core_pipe_limit)" "$limit_before" "restore-pattern: core_pipe_limit restored"
t_done
