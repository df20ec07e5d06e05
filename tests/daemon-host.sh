#!/bin/bash
# The daemon on the host: real crashes in both kernel modes are stored with
# their metadata, each with one event line whose fields say what happened.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

check_stored() { # check_stored DIR MODE COMM CRASHER-OUTPUT
	local dir=$1 mode=$2 comm=$3 out=$4 ev id core
	ev=$(t_event "$dir" "$comm")
	t_ok "$mode: one event line for $comm" test -n "$ev"
	id=$(t_jq "$ev" .id)
	core=$dir/store/$id.core
	t_is "$(t_jq "$ev" .event)" coredump "$mode: event is a coredump"
	t_is "$(t_jq "$ev" .outcome)" stored "$mode: outcome stored"
	t_is "$(t_jq "$ev" .route)" host "$mode: route is the host rule"
	t_is "$(t_jq "$ev" .reason)" route "$mode: reason route"
	t_is "$(t_jq "$ev" .mode)" "$mode" "$mode: kernel mode detected"
	t_is "$(t_jq "$ev" .pid)" "$(t_kv -t "$out" pid)" "$mode: pid is the crashing task's host tgid"
	t_is "$(t_jq "$ev" .signal)" 11 "$mode: signal SIGSEGV"
	t_is "$(t_jq "$ev" .container)" null "$mode: host task has no container"
	t_like "$(t_jq "$ev" .time)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$mode: RFC 3339 time"
	t_ok "$mode: core stored as $id.core" test -f "$core"
	t_ok "$mode: stored core is ELF" t_is_elf "$core"
	t_is "$(stat -c %a "$core")" 600 "$mode: core is mode 0600"
	t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$core")" "$mode: event bytes = core size"
	t_is "$(t_jq "$ev" .truncated)" false "$mode: not truncated"
	t_is "$(jq -r .id "$dir/store/$id.json")" "$id" "$mode: metadata has the same id"
	t_is "$(jq -r .comm "$dir/store/$id.json")" "$comm" "$mode: metadata has comm"
	t_is "$(jq -r .bytes "$dir/store/$id.json")" "$(stat -c %s "$core")" "$mode: metadata bytes"
	t_like "$(jq -r .cmdline "$dir/store/$id.json")" "cdp-crasher --name $comm" "$mode: metadata has the cmdline"
	t_is "$(t_kv -t "$out" coredump)" 1 "$mode: task's wait status shows a core"
	t_ok "$mode: log names the dump id" grep -q "$id" "$dir/proxy.err"
	t_ok "$mode: no temporary file left" bash -c "! ls -A '$dir/store' | grep -v -e '\\.core\$' -e '\\.json\$'"
}

# Request mode ("@@").
t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"host","match":{"container":false},"action":"store"}]'
t_ok "daemon starts (request)" t_proxy_start "$d"
t_like "$(cat /proc/sys/kernel/core_pattern)" "^@@$d/kernel.sock$" "request: pattern installed as @@"
out=$("$T_HELPERS/cdp-crasher" --name host-req --size 4194304 --threads 4)
check_stored "$d" request host-req "$out"
t_ok "request: daemon stops on SIGTERM" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "request: pattern restored"

# Plain mode ("@"), with core_pipe_limit > 0 so the task is held while identified.
t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain '[{"name":"host","match":{"container":false},"action":"store"}]'
t_ok "daemon starts (plain)" t_proxy_start "$d"
t_like "$(cat /proc/sys/kernel/core_pattern)" "^@$d/kernel.sock$" "plain: pattern installed as @"
out=$("$T_HELPERS/cdp-crasher" --name host-plain --size 1048576)
check_stored "$d" plain host-plain "$out"
t_ok "plain: daemon stops on SIGTERM" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "plain: pattern restored"

# Plain mode without core_pipe_limit: warned about, and the dump still kept.
t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 0
t_proxy_config "$d" plain '[]'
t_ok "daemon starts (plain, core_pipe_limit 0)" t_proxy_start "$d"
t_ok "plain: warns about core_pipe_limit 0" grep -q "core_pipe_limit=0" "$d/proxy.err"
"$T_HELPERS/cdp-crasher" --name host-nolimit --size 1048576 >/dev/null
t_wait_for 15 grep -q '"outcome"' "$d/events.jsonl"
ev=$(tail -n 1 "$d/events.jsonl")
t_is "$(t_jq "$ev" .outcome)" stored "plain, no limit: dump stored"
t_is "$(t_jq "$ev" .route)" null "plain, no limit: no route matched (route null)"
t_is "$(t_jq "$ev" .reason)" default "plain, no limit: stored by default"
t_ok "plain, no limit: core is ELF" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_proxy_stop
t_done
