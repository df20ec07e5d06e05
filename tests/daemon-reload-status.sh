#!/bin/bash
# SIGHUP reloads the config atomically (a broken one is reported and the old
# one stays in force); `coredump-proxy status` reports the config in force,
# counters per outcome and reason, and dumps in flight.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"first","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"

"$T_HELPERS/cdp-crasher" --name before-hup >/dev/null
t_is "$(t_jq "$(t_event "$d" before-hup)" .route)" first "the first config routes"

# A broken config: reported with its position, and the old config stays.
cp "$d/config.json" "$d/good.json"
printf '{ "routes": [ { "name": "second", "action": "stroe" } ] }\n' >"$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a broken reload is reported with the file and position" \
	t_wait_for 10 grep -q "$d/config.json:1:[0-9]*: routes\[0\].action" "$d/proxy.err"
t_ok "and says the old configuration stays" grep -q "previous configuration stays in force" "$d/proxy.err"
out=$("$T_HELPERS/cdp-crasher" --name after-bad-hup)
ev=$(t_event "$d" after-bad-hup)
t_is "$(t_jq "$ev" .route)" first "after a broken reload the old routes still apply"
t_is "$(t_kv -t "$out" coredump)" 1 "and the daemon still serves"

# The fixed config takes over.
t_proxy_config "$d" request '[{"name":"second","match":{"comm":"after-*"},"action":"reject"},{"name":"rest","match":{},"action":"store"}]'
kill -HUP "$T_PROXY_PID"
t_ok "a good reload is logged" t_wait_for 10 grep -q "configuration reloaded" "$d/proxy.err"
out=$("$T_HELPERS/cdp-crasher" --name after-good-hup)
ev=$(t_event "$d" after-good-hup)
t_is "$(t_jq "$ev" .route)" second "after a good reload the new routes apply"
t_is "$(t_jq "$ev" .outcome)" rejected "the new route's action applies"
t_is "$(t_kv -t "$out" coredump)" 0 "and the kernel was told to reject"

# Status: the config in force and the counters.
st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$?" 0 "status answers"
t_is "$(t_jq "$st" .pid)" "$T_PROXY_PID" "status comes from the running daemon"
t_is "$(t_jq "$st" '.config.routes | map(.name) | join(",")')" second,rest "status shows the config in force"
t_is "$(t_jq "$st" .config.protocol)" request "status shows the protocol"
t_is "$(t_jq "$st" .config.pattern_installed)" true "status shows the pattern is ours"
t_is "$(t_jq "$st" .config.core_pattern)" "@@$d/kernel.sock" "status shows core_pattern"
t_is "$(t_jq "$st" .accepted)" 3 "status counts accepted dumps"
t_is "$(t_jq "$st" .outcomes.stored.total)" 2 "status counts stored dumps"
t_is "$(t_jq "$st" .outcomes.stored.reasons.route)" 2 "status counts them per reason"
t_is "$(t_jq "$st" .outcomes.rejected.reasons.route)" 1 "status counts the rejected one"
t_is "$(t_jq "$st" .in_flight_total)" 0 "nothing in flight now"
t_is "$(t_jq "$st" .lost.total)" 0 "no dump lost"
t_is "$(stat -c %a "$d/kernel.sock.control")" 600 "the control socket is root-only"
t_ok "status refuses non-root clients" \
	bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups '$T_PROXY' --config '$d/config.json' status >/dev/null 2>&1"

# A crash that never reaches the socket (a non-dumpable task) is still accounted for.
# Reaped 3 s late, so that the daemon can still read the dead task's comm (it is best effort,
# read when the loop reads the proc connector: a busy machine can delay that past a second).
out=$("$T_HELPERS/cdp-crasher" --name lost-one --non-dumpable --reap-delay-ms 3000)
t_is "$(t_kv -t "$out" coredump)" 0 "a non-dumpable task gets no core"
t_ok "its crash is reported as lost" t_wait_for 15 grep -q '"event":"coredump-lost"' "$d/events.jsonl"
ev=$(grep '"event":"coredump-lost"' "$d/events.jsonl")
t_is "$(t_jq "$ev" .pid)" "$(t_kv -t "$out" pid)" "lost: the crashing pid"
t_is "$(t_jq "$ev" .comm)" lost-one "lost: the crashing comm"
# Not dumpable when the daemon could still look at the task, else only "not received".
t_like "$(t_jq "$ev" .reason)" '^(not-dumpable|not-received)$' "lost: a reason"
st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(t_jq "$st" .lost.total)" 1 "status counts the lost dump"
t_is "$(t_jq "$st" '.lost.recent[0].comm')" lost-one "status names it"
t_is "$(t_jq "$st" .kernel_queue.backlog)" 4096 "status shows the kernel socket's accept queue"
t_is "$(t_jq "$st" .accepted)" 3 "the lost crash never reached the socket"

t_proxy_stop
t_ok "status without a daemon fails clearly" bash -c "! '$T_PROXY' --config '$d/config.json' status 2>'$d/status.err'"
t_ok "and says so" grep -q "no running daemon" "$d/status.err"
t_done
