#!/bin/bash
# The daemon runs as two processes: the keeper (the process that was
# started) alone writes core_pattern, and the daemon (its child) serves
# dumps, confined. The keeper forwards SIGTERM/SIGINT/SIGHUP, gives the
# pattern back however the daemon ends (a SIGKILL of the daemon included,
# which before left core_pattern pointing at a socket nobody served) and
# exits with the daemon's status. Crashes are served in both kernel modes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

marker='|/bin/false cdp-keeper %p'
t_core_pattern_set "$marker"
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
# CAP_SYS_PTRACE (19): what the keeper keeps, for the daemon's ptrace-checked questions.
KEEPER_CAPS=0000000000080000

# ---- request mode ------------------------------------------------------------

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts (request)" t_proxy_start "$d"
keeper=$T_PROXY_PID
daemon=$(t_proxy_daemon)
t_ok "the keeper has one child, the daemon ($daemon)" test "$daemon" != "$keeper"
t_is "$(readlink "/proc/$daemon/exe")" "$(readlink -f "$T_PROXY")" "the daemon is the same program"
t_is "$(status_field "$keeper" CapEff)" "$KEEPER_CAPS" "the keeper keeps CAP_SYS_PTRACE only"
t_is "$(status_field "$keeper" CapBnd)" "$KEEPER_CAPS" "the keeper's bounding set is reduced too"
t_is "$(status_field "$keeper" Seccomp)" 2 "the keeper runs under a seccomp filter"
t_is "$(status_field "$keeper" NoNewPrivs)" 1 "the keeper has no_new_privs"
t_is "$(readlink "/proc/$keeper/ns/mnt")" "$(readlink /proc/self/ns/mnt)" \
	"the keeper stays in the mount namespace it was started in (socket patterns need the initial one)"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "the keeper installed the pattern"

st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(t_jq "$st" .pid)" "$keeper" "status: pid is the keeper's, the one to signal"
t_is "$(t_jq "$st" .daemon_pid)" "$daemon" "status: daemon_pid is the daemon's"
t_is "$(t_jq "$st" .config.pattern_installed)" true "status: the pattern is ours"

out=$("$T_HELPERS/cdp-crasher" --name keep-req --size 1048576)
ev=$(t_event "$d" keep-req)
t_is "$(t_jq "$ev" .outcome)" stored "request: a crash is stored"
t_is "$(t_jq "$ev" .signal)" 11 "request: the signal is known (read for the daemon by the keeper)"
t_is "$(jq -r .exe "$d/store/$(t_jq "$ev" .id).json")" "$(readlink -f "$T_HELPERS/cdp-crasher")" \
	"request: so is the exe (in the metadata)"
t_ok "request: the core is ELF" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_is "$(t_kv -t "$out" coredump)" 1 "request: the task got its core"

# A SIGTERM sent to the daemon directly (by a terminal's Ctrl-C to the process
# group, or a service manager's to every process) is the keeper's to forward.
kill -TERM "$daemon"
t_ok "a SIGTERM from someone else than the keeper is ignored by the daemon" \
	t_wait_for 5 grep -q "Terminated from pid [0-9]* ignored" "$d/proxy.err"
t_ok "the daemon still runs" kill -0 "$daemon"

# SIGKILL of the daemon alone: the keeper gives the pattern back and ends as the daemon did.
kill -KILL "$daemon"
wait "$keeper"
t_is "$?" $((128 + 9)) "SIGKILL of the daemon: the keeper dies of SIGKILL too"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGKILL of the daemon: core_pattern restored"
t_ok "SIGKILL of the daemon: the saved pattern is removed" test ! -e "$d/kernel.sock.previous-pattern"
t_ok "SIGKILL of the daemon: the keeper says so" grep -q "core_pattern restored to '$marker'" "$d/proxy.err"

# SIGTERM to the keeper: forwarded; a clean stop, the pattern back.
t_ok "daemon starts again" t_proxy_start "$d"
daemon=$(t_proxy_daemon)
kill -HUP "$T_PROXY_PID"
t_ok "SIGHUP to the keeper reaches the daemon (a reload)" \
	t_wait_for 10 grep -q "configuration reloaded" "$d/proxy.err"
t_ok "SIGTERM to the keeper: a clean stop" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "SIGTERM: core_pattern restored"
t_ok "SIGTERM: the daemon is gone too" t_gone "$daemon"
t_ok "SIGTERM: the socket is removed (by the daemon, allowed to remove there)" test ! -e "$d/kernel.sock"

# ---- plain mode --------------------------------------------------------------

t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain '[{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts (plain)" t_proxy_start "$d"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@$d/kernel.sock" "plain: the keeper installed '@'"
"$T_HELPERS/cdp-crasher" --name keep-plain --size 1048576 >/dev/null
ev=$(t_event "$d" keep-plain)
t_is "$(t_jq "$ev" .outcome)" stored "plain: a crash is stored"
t_is "$(t_jq "$ev" .mode)" plain "plain: mode detected"
t_is "$(t_jq "$ev" .signal)" 11 "plain: the signal is known"
kill -KILL "$(t_proxy_daemon)"
wait "$T_PROXY_PID"
t_is "$?" $((128 + 9)) "plain: SIGKILL of the daemon ends the keeper the same way"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "plain: core_pattern restored"

# ---- without --install-pattern ----------------------------------------------

# The keeper still runs (the daemon's ptrace-checked questions go through it) but never
# writes core_pattern: the administrator points it at the socket.
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
"$T_PROXY" --config "$d/config.json" >>"$d/proxy.out" 2>>"$d/proxy.err" &
T_PROXY_PID=$!
t_track_pid "$T_PROXY_PID"
t_ok "daemon starts without --install-pattern" t_wait_for 10 grep -q "listening on" "$d/proxy.err"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "without --install-pattern: core_pattern untouched"
t_ok "without --install-pattern: no saved pattern" test ! -e "$d/kernel.sock.previous-pattern"
t_core_pattern_set "@@$d/kernel.sock"
"$T_HELPERS/cdp-crasher" --name keep-noinst >/dev/null
t_core_pattern_set "$marker"
ev=$(t_event "$d" keep-noinst)
t_is "$(t_jq "$ev" .outcome)" stored "without --install-pattern: a crash is stored"
t_is "$(t_jq "$ev" .signal)" 11 "without --install-pattern: the signal is known"
t_ok "without --install-pattern: a clean stop" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$marker" "without --install-pattern: core_pattern still untouched"
t_done
