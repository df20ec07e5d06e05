#!/bin/bash
# The upload hook of coredump-collector (--exec): the user's command runs
# after a dump and its metadata are complete, off the crash path, with the
# paths and key fields in its environment; its exit status and output are
# logged; a failing command keeps the dump, a hanging one is killed at its
# time limit (its whole process group) and keeps it; --exec-remove removes
# a dump only once the command exited 0.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter zstd
t_core_pattern_save
t_tmpdir
d=$T_TMP
mkdir -p "$d/ct" "$d/hook"

t_proxy_config "$d" request '[{"name":"ct","match":{"container":true},"action":"forward"},{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"

# What the command does depends on the crash: it is the same command for every dump.
cmd='case "$CDP_COMM" in
up-ok) env > "'"$d"'/hook/$CDP_ID.env"; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status > "'"$d"'/hook/$CDP_ID.caps"; test -f "$CDP_CORE" && test -f "$CDP_METADATA" && echo "uploaded $CDP_ID";;
up-fail) echo boom; exit 3;;
up-hang) echo $$ > "'"$d"'/hook/hang.pid"; sleep 1000.25 & wait;;
esac'
t_container_run "$T_HOLDER" "$cg" "$T_COLLECTOR" --dir "$d/ct" --exec "$cmd" --exec-timeout 5s --exec-max 2 \
	--exec-remove 2>"$d/ct.log" &
t_track_pid $!
t_ok "collector listens" t_wait_for 10 grep -qs "listening on" "$d/ct.log"
crash() { t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name "$1"; }

# Success: the environment, then the dump removed.
out=$(crash up-ok)
ev=$(t_event "$d" up-ok)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "ok: delivered"
t_ok "ok: the command ran" t_wait_for 10 test -s "$d/hook/$id.env"
env_of() { sed -n "s/^$1=//p" "$d/hook/$id.env"; }
t_is "$(env_of CDP_ID)" "$id" "ok: CDP_ID"
t_is "$(env_of CDP_CORE)" "$d/ct/$id.core.zst" "ok: CDP_CORE, the compressed core"
t_is "$(env_of CDP_METADATA)" "$d/ct/$id.json" "ok: CDP_METADATA"
t_is "$(env_of CDP_BYTES)" "$(t_jq "$ev" .bytes)" "ok: CDP_BYTES"
t_is "$(env_of CDP_COMM)" up-ok "ok: CDP_COMM"
t_is "$(env_of CDP_SIGNAL)" 11 "ok: CDP_SIGNAL"
t_is "$(env_of CDP_CONTAINER_ID)" "$(t_jq "$ev" .container.id)" "ok: CDP_CONTAINER_ID"
t_ok "ok: the command saw the core and its metadata complete" t_wait_for 10 grep -q "upload $id: exit status 0; output: uploaded $id" "$d/ct.log"
t_ok "ok: removed once it succeeded" t_wait_for 10 bash -c "[ ! -e '$d/ct/$id.core.zst' ] && [ ! -e '$d/ct/$id.json' ]"

# Failure: logged with its output, the dump kept.
out=$(crash up-fail)
ev=$(t_event "$d" up-fail)
id=$(t_jq "$ev" .id)
t_ok "fail: exit status and output logged" t_wait_for 10 grep -q "upload $id: exit status 3; dump kept; output: boom" "$d/ct.log"
t_ok "fail: the dump is kept" test -f "$d/ct/$id.core.zst" -a -f "$d/ct/$id.json"

# A hanging command: the crash is not held up by it, and it is killed at its time limit.
start=$EPOCHREALTIME
out=$(crash up-hang)
# Released long before the command's 5 s (a round trip takes ~0.1 s; the slack is for a busy machine).
t_ok "hang: the crashing task was released without waiting for the command" t_lt "$(t_elapsed "$start")" 3
ev=$(t_event "$d" up-hang)
id=$(t_jq "$ev" .id)
t_ok "hang: it runs" t_wait_for 5 test -s "$d/hook/hang.pid"
t_ok "hang: its child runs too" t_wait_for 5 pgrep -x -f 'sleep 1000[.]25'
t_ok "hang: killed after its 5 s" t_wait_for 15 grep -q "upload $id: killed after 5 s; dump kept" "$d/ct.log"
t_ok "hang: its whole process group is gone (the sleep too)" t_wait_for 5 bash -c "! pgrep -x -f 'sleep 1000[.]25' >/dev/null"
t_ok "hang: the dump is kept" test -f "$d/ct/$id.core.zst"

t_proxy_stop

# ---- the host store: store.exec ------------------------------------------------
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
jq --arg cmd "$cmd" '.store.compress = 3 | .store.exec = {"command": $cmd, "timeout": "5s", "max_concurrent": 2, "remove": true}' \
	"$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
rm -f "$d/hook/hang.pid"
t_ok "daemon starts with store.exec" t_proxy_start "$d"
out=$("$T_HELPERS/cdp-crasher" --name up-ok)
ev=$(t_event "$d" up-ok)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" stored "host ok: stored"
t_ok "host ok: the command ran" t_wait_for 10 test -s "$d/hook/$id.env"
t_is "$(env_of CDP_CORE)" "$d/store/$id.core.zst" "host ok: CDP_CORE"
t_is "$(env_of CDP_METADATA)" "$d/store/$id.json" "host ok: CDP_METADATA"
t_is "$(env_of CDP_PID)" "$(t_kv -t "$out" pid)" "host ok: CDP_PID, the host pid"
t_is "$(env_of CDP_BYTES)" "$(t_jq "$ev" .bytes)" "host ok: CDP_BYTES"
t_is "$(env_of CDP_STORED_BYTES)" "$(t_jq "$ev" .stored_bytes)" "host ok: CDP_STORED_BYTES"
# The runner was forked before the daemon confined itself: it and its commands keep none of its power.
caps_of() { sed -n "s/^$1:[[:space:]]*//p" "$d/hook/$id.caps"; }
t_is "$(caps_of CapEff)" 0000000000000000 "host ok: the command runs without capabilities"
t_is "$(caps_of CapBnd)" 0000000000000000 "host ok: and cannot gain any by exec (empty bounding set)"
t_is "$(caps_of NoNewPrivs)" 1 "host ok: nor through a setuid program (no_new_privs)"
t_ok "host ok: logged with its output" t_wait_for 10 grep -q "upload $id: exit status 0; output: uploaded $id" "$d/proxy.err"
t_ok "host ok: removed once it succeeded" t_wait_for 10 bash -c "[ ! -e '$d/store/$id.core.zst' ] && [ ! -e '$d/store/$id.json' ]"

out=$("$T_HELPERS/cdp-crasher" --name up-fail)
ev=$(t_event "$d" up-fail)
id=$(t_jq "$ev" .id)
t_ok "host fail: logged" t_wait_for 10 grep -q "upload $id: exit status 3; dump kept; output: boom" "$d/proxy.err"
t_ok "host fail: kept" test -f "$d/store/$id.core.zst" -a -f "$d/store/$id.json"

start=$EPOCHREALTIME
out=$("$T_HELPERS/cdp-crasher" --name up-hang)
t_ok "host hang: the task was released at once" t_lt "$(t_elapsed "$start")" 3
ev=$(t_event "$d" up-hang)
id=$(t_jq "$ev" .id)
t_ok "host hang: killed after its 5 s" t_wait_for 15 grep -q "upload $id: killed after 5 s; dump kept" "$d/proxy.err"
t_ok "host hang: its process group is gone" t_wait_for 5 bash -c "! pgrep -x -f 'sleep 1000[.]25' >/dev/null"
t_ok "host hang: kept" test -f "$d/store/$id.core.zst"

# A reload cannot change the command: the runner was started outside the sandbox.
jq '.store.exec.command = "true"' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
kill -HUP "$T_PROXY_PID"
t_ok "a reload changing store.exec is refused" t_wait_for 10 grep -q "store.exec takes effect on restart" "$d/proxy.err"
t_proxy_stop
t_done
