#!/bin/bash
# A compromised daemon must not be able to take the machine: once started it
# cannot write outside its store, its event log and (removals only) the
# directory of its socket. A test hook (CDP_FAULT=sandbox-probe) makes a
# worker thread, the thread that runs the parsers, try what code run through
# one would: open core_pattern, a new file in /etc, one in /tmp and the saved
# pattern that `restore-pattern` writes back into core_pattern, all for
# writing. Every attempt is refused while the dump itself is stored, and
# core_pattern never changes. A reload that names another store or event log
# is refused whole and the running configuration stays.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
export CDP_FAULT=sandbox-probe
started=0
t_proxy_start "$d" && started=1
unset CDP_FAULT
# The daemon says when the kernel cannot confine it (Landlock: 5.13+, and enabled at boot).
if grep -q "this kernel has no Landlock" "$d/proxy.err"; then
	t_skip_all "$(grep -m1 'no Landlock' "$d/proxy.err")"
fi
t_is "$started" 1 "daemon starts with the sandbox probe armed"
t_ok "its writes are confined (Landlock)" grep -q "writes confined (Landlock ABI [0-9]*)" "$d/proxy.err"
daemon=$(t_proxy_daemon)

out=$("$T_HELPERS/cdp-crasher" --name contain-probe --size 1048576)
ev=$(t_event "$d" contain-probe)
t_is "$(t_jq "$ev" .outcome)" stored "the probed dump is still stored"
t_ok "its core is ELF" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_is "$(t_kv -t "$out" coredump)" 1 "the task got its core"

probe() { grep "sandbox-probe: open $1 for writing" "$d/proxy.err"; }
t_like "$(probe /proc/sys/kernel/core_pattern)" "refused \((EACCES|EPERM)\)" \
	"a worker cannot open core_pattern for writing"
t_like "$(probe "/etc/cdp-sandbox-probe.$daemon")" "refused \((EACCES|EPERM)\)" \
	"a worker cannot create a file in /etc"
t_like "$(probe "/tmp/cdp-sandbox-probe.$daemon")" "refused \((EACCES|EPERM)\)" \
	"a worker cannot create a file in /tmp"
t_like "$(probe "$d/kernel.sock.previous-pattern")" "refused \((EACCES|EPERM)\)" \
	"a worker cannot rewrite the saved pattern beside its own socket"
t_ok "nothing was allowed" bash -c "! grep -q 'ALLOWED' '$d/proxy.err'"
t_ok "no file was left in /etc" test ! -e "/etc/cdp-sandbox-probe.$daemon"
t_ok "no file was left in /tmp" test ! -e "/tmp/cdp-sandbox-probe.$daemon"
t_is "$(cat /proc/sys/kernel/core_pattern)" "@@$d/kernel.sock" "core_pattern is still the daemon's"
t_is "$(cat "$d/kernel.sock.previous-pattern")" "$T_PATTERN_SAVED" "the saved pattern is intact"

# ---- reloads cannot widen what the daemon may write ------------------------------

cp "$d/config.json" "$d/good.json"
jq --arg s "$d/elsewhere/store" '.store.directory = $s' "$d/good.json" >"$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a reload naming another store is refused" \
	t_wait_for 10 grep -q "store.directory $d/elsewhere/store: .* takes effect on restart" "$d/proxy.err"
t_ok "and the previous configuration stays" \
	t_wait_for 10 grep -q "previous configuration stays in force" "$d/proxy.err"
jq --arg e "$d/elsewhere/events.jsonl" '.events = $e' "$d/good.json" >"$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a reload naming another event log is refused" \
	t_wait_for 10 grep -q "events $d/elsewhere/events.jsonl: .* takes effect on restart" "$d/proxy.err"
t_ok "nothing was created for them" test ! -e "$d/elsewhere"
"$T_HELPERS/cdp-crasher" --name contain-after >/dev/null
ev=$(t_event "$d" contain-after)
t_is "$(t_jq "$ev" .outcome)" stored "after the refused reloads: stored in the store it started with"
t_ok "after the refused reloads: the core is there" t_is_elf "$d/store/$(t_jq "$ev" .id).core"

# The same store and event log with other routes: a reload as before.
jq '.routes = [{"name":"renamed","match":{},"action":"store"}]' "$d/good.json" >"$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a reload that keeps the store and event log works" \
	t_wait_for 10 grep -q "configuration reloaded" "$d/proxy.err"
"$T_HELPERS/cdp-crasher" --name contain-rld >/dev/null
t_is "$(t_jq "$(t_event "$d" contain-rld)" .route)" renamed "the reloaded routes apply"

t_ok "SIGTERM: a clean stop" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "SIGTERM: core_pattern restored"
t_ok "the daemon removed its sockets (removals are allowed in its directory)" \
	test ! -e "$d/kernel.sock" -a ! -e "$d/kernel.sock.control"
t_done
