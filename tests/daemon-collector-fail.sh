#!/bin/bash
# A collector that takes the dump and then fails. Issue 10: a message 4 with
# an error and no byte count counted as delivered, and the core was lost.
# Now a collector that read nothing and says so ({"error":..., "consumed":
# false}) hands the dump to the route's fallback, which keeps the whole core
# (reason collector-error, fallback true); one that read part of it and then
# failed is failed, never delivered.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save


t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}]' '"limits": { "collector_timeout": "2s", "dump_timeout": "10s" }'
t_ok "daemon starts" t_proxy_start "$d"

# new_container MODE: a docker container running a collector of that mode; sets HOLDER and CG.
new_container() {
	t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope" && t_container_start "$T_CG" || return 1
	HOLDER=$T_HOLDER
	CG=$T_CG
	t_container_run "$HOLDER" "$CG" "$T_HELPERS/cdp-test-peer" collector @coredump-collector "$1" \
		>"$d/collector-$1.out" 2>&1 &
	t_track_pid $!
	t_wait_for 10 grep -qs listening=1 "$d/collector-$1.out"
}

# ---- failed before reading: the fallback keeps the whole core --------------------------------
new_container fail-unread
out=$(t_container_run "$HOLDER" "$CG" "$T_HELPERS/cdp-crasher" --name unread-victim --size 2097152)
ev=$(t_event "$d" unread-victim)
id=$(t_jq "$ev" .id)
t_ok "the collector took the dump and read nothing" grep -q "read=0" "$d/collector-fail-unread.out"
t_is "$(t_jq "$ev" .outcome)" stored "collector failed before reading: not delivered, the fallback stored it"
t_is "$(t_jq "$ev" .reason)" collector-error "reason collector-error"
t_is "$(t_jq "$ev" .fallback)" true "the event says the fallback acted"
t_ok "the host has the core" t_is_elf "$d/store/$id.core"
size=$(stat -c %s "$d/store/$id.core" 2>/dev/null || echo 0)
t_ok "the whole core, from its first byte ($size bytes, 2 MiB touched)" test "$size" -gt 2097152
t_is "$(t_jq "$ev" .bytes)" "$size" "the event's bytes are the stored core's"
t_is "$(t_kv -t "$out" coredump)" 1 "the task got its core"

# ---- failed after reading part: failed, never delivered ----------------------------------------
new_container fail-partial
out=$(t_container_run "$HOLDER" "$CG" "$T_HELPERS/cdp-crasher" --name partial-victim --size 2097152)
ev=$(t_event "$d" partial-victim)
t_ok "the collector read 4 KiB, then failed" grep -q "read=4096" "$d/collector-fail-partial.out"
t_is "$(t_jq "$ev" .outcome)" failed "collector failed after reading part: outcome failed, not delivered"
t_is "$(t_jq "$ev" .reason)" collector-error "reason collector-error"

t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_proxy_stop
t_done
