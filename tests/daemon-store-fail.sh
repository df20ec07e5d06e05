#!/bin/bash
# The host store fails to write a dump's metadata (CDP_FAULT=store-metadata).
# Issue 10: the event said "stored" while the core was deleted. Now the
# outcome is failed (store-error) and nothing of the dump is left in the
# store: no core, no metadata, no temporary file.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_fault_injection
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'
CDP_FAULT=store-metadata t_proxy_start "$d"
t_ok "daemon starts (the first metadata write will fail)" kill -0 "$T_PROXY_PID"

"$T_HELPERS/cdp-crasher" --name meta-fails --size 1048576 >/dev/null
ev=$(t_event "$d" meta-fails 10)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" failed "metadata write failed: outcome failed, not stored"
t_is "$(t_jq "$ev" .reason)" store-error "metadata write failed: reason store-error"
t_is "$(ls -A "$d/store" | grep -c -- "$id")" 0 "nothing of it left in the store (core, metadata, temporary files)"
t_is "$(ls -A "$d/store" | grep -c 'partial')" 0 "no temporary file left"

"$T_HELPERS/cdp-crasher" --name meta-ok >/dev/null
ev=$(t_event "$d" meta-ok 10)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" stored "the next dump is stored"
t_ok "with its core" t_is_elf "$d/store/$id.core"
t_is "$(jq -r .id "$d/store/$id.json")" "$id" "and its metadata"
t_proxy_stop
t_done
