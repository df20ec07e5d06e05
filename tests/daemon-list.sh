#!/bin/bash
# coredump-proxy list / info: the dumps the host store kept (its directory
# from the config) and those of a collector's directory (--dir), as a table
# and as JSON, in the manner of coredumpctl list / info.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save
t_tmpdir
d=$T_TMP

T_STORE_COMPRESS=3 t_proxy_config "$d" request '[{"name":"ct","match":{"container":true},"action":"forward"},{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"
out=$("$T_HELPERS/cdp-crasher" --name list-one)
one=$(t_jq "$(t_event "$d" list-one)" .id)
out=$("$T_HELPERS/cdp-crasher" --name list-two --signal abrt)
ev=$(t_event "$d" list-two)
two=$(t_jq "$ev" .id)
pid2=$(t_kv -t "$out" pid)

t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"
mkdir -p "$d/ct"
t_container_run "$T_HOLDER" "$cg" "$T_COLLECTOR" --dir "$d/ct" 2>"$d/ct.log" &
t_track_pid $!
t_ok "collector listens" t_wait_for 10 grep -qs "listening on" "$d/ct.log"
out=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name list-ct)
ct=$(t_jq "$(t_event "$d" list-ct)" .id)
ctid=$(t_jq "$(t_event "$d" list-ct)" .container.id)
t_proxy_stop

# The host store, found through the config.
table=$("$T_PROXY" list --config "$d/config.json")
t_is "$(printf '%s\n' "$table" | head -n 1 | awk '{ print $1, $2, $3, $4 }')" "TIME PID SIG COMM" "list: a header"
t_is "$(printf '%s\n' "$table" | grep -c -e "$one" -e "$two")" 2 "list: both host dumps"
t_like "$(printf '%s\n' "$table" | grep "$two")" "^[0-9T:.Z-]+ +$pid2 +6 +list-two +- " "list: time, pid, signal, comm, no container"
t_ok "list: oldest first" bash -c "[ \"\$(printf '%s\n' '$table' | sed -n 2p | awk '{ print \$NF }')\" = '$one' ]"
json=$("$T_PROXY" list --config "$d/config.json" --json)
t_is "$(t_jq "$json" 'length')" 2 "list --json: two dumps"
t_is "$(t_jq "$json" ".[1].id")" "$two" "list --json: ids"
t_is "$(t_jq "$json" ".[1].core_file")" "$two.core.zst" "list --json: the core's file"
t_is "$(t_jq "$json" ".[1].stored_bytes")" "$(stat -c %s "$d/store/$two.core.zst")" "list --json: stored_bytes"

text=$("$T_PROXY" info "$two" --config "$d/config.json")
t_like "$text" "(^|$(printf '\n'))comm: list-two" "info: comm"
t_like "$text" "signal: 6" "info: signal"
t_like "$text" "core_file: $d/store/$two.core.zst" "info: the core's path"
t_is "$("$T_PROXY" info "$two" --config "$d/config.json" --json | jq -r .pid)" "$pid2" "info --json: pid"
t_ok "info of an unknown id fails" bash -c "! '$T_PROXY' info nope --config '$d/config.json' 2>/dev/null"

# A collector's directory.
table=$("$T_PROXY" list --dir "$d/ct")
t_like "$(printf '%s\n' "$table" | grep "$ct")" "list-ct +docker:${ctid:0:12} " "list --dir: the collector's dump and its container"
t_is "$("$T_PROXY" info "$ct" --dir "$d/ct" --json | jq -r .container.id)" "$ctid" "info --dir --json: container"

# A core removed by hand: listed as gone.
rm "$d/store/$one.core.zst"
t_like "$("$T_PROXY" list --config "$d/config.json" | grep "$one")" " gone $one" "list: a removed core shows as gone"

# Strings come from whoever crashed (and, with --dir, whoever wrote the directory): no escape
# sequence reaches the reader's terminal.
mkdir -p "$d/hostile"
esc=$(printf '\033')
jq -n --arg comm "evil${esc}]52;c;AAAA${esc}\\" --arg arg "x${esc}[2J" \
	'{id: "hostile-1", time: "2026-12-02T00:00:00Z", pid: 1, signal: 11, comm: $comm, cmdline: $arg, bytes: 1}' \
	>"$d/hostile/hostile-1.json"
printf 'x' >"$d/hostile/hostile-1.core"
out=$("$T_PROXY" list --dir "$d/hostile"; "$T_PROXY" info hostile-1 --dir "$d/hostile")
t_is "$(printf '%s' "$out" | tr -dc '\033' | wc -c)" 0 "list and info print no raw escape character"
t_like "$out" 'evil\\x1b]52' "they show it as \\x1b"
t_done
