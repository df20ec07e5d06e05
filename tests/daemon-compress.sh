#!/bin/bash
# Compression, end to end: a real crash kept by the host store and by a
# container's collector as <id>.core.zst (the defaults), which `zstd -d`
# turns back into the ELF core of `bytes` bytes; the metadata and the event
# give both sizes; the command line still comes from the core's notes; a
# quota counts the compressed bytes; level 0 keeps the raw <id>.core.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter zstd readelf
t_core_pattern_save
t_tmpdir
d=$T_TMP

# check_zst WHERE DIR EVENT: the kept .zst of EVENT in DIR is a whole ELF core of the event's bytes.
check_zst() {
	local where=$1 dir=$2 ev=$3 id meta
	id=$(t_jq "$ev" .id)
	meta=$dir/$id.json
	t_ok "$where: <id>.core.zst kept" test -f "$dir/$id.core.zst"
	t_ok "$where: no raw <id>.core beside it" test ! -e "$dir/$id.core"
	zstd -q -d -c "$dir/$id.core.zst" >"$d/$where.core"
	t_ok "$where: zstd -d checks the frame" zstd -q -t "$dir/$id.core.zst"
	t_is "$(stat -c %s "$d/$where.core")" "$(jq -r .bytes "$meta")" "$where: it decompresses to bytes (uncompressed)"
	t_ok "$where: an ELF core" bash -c "readelf -h '$d/$where.core' | grep -q 'CORE (Core file)'"
	t_is "$(jq -r .compression "$meta")" zstd "$where: metadata says zstd"
	t_is "$(jq -r .stored_bytes "$meta")" "$(stat -c %s "$dir/$id.core.zst")" "$where: stored_bytes is the file's size"
	t_ok "$where: a fraction of the core" test "$(jq -r .stored_bytes "$meta")" -lt "$(($(jq -r .bytes "$meta") / 4))"
}

# The default config (no "compress" key): compressed.
cat >"$d/config.json" <<JSON
{
  "listen": { "path": "$d/kernel.sock", "protocol": "request" },
  "events": "$d/events.jsonl",
  "store": { "directory": "$d/store" },
  "routes": [
    { "name": "ct", "match": { "container": true }, "action": "forward" },
    { "name": "host", "match": {}, "action": "store" } ]
}
JSON
t_ok "daemon starts" t_proxy_start "$d"
out=$("$T_HELPERS/cdp-crasher" --name zst-host --size 8388608)
ev=$(t_event "$d" zst-host)
t_is "$(t_jq "$ev" .outcome)" stored "host: stored"
check_zst host "$d/store" "$ev"
t_is "$(t_jq "$ev" .stored_bytes)" "$(jq -r .stored_bytes "$d/store/$(t_jq "$ev" .id).json")" "host: the event has stored_bytes"
t_like "$(jq -r .cmdline "$d/store/$(t_jq "$ev" .id).json")" "cdp-crasher" "host: the command line, from the compressed core's notes"

# A container's collector, on its defaults.
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"
mkdir -p "$d/ct"
t_container_run "$T_HOLDER" "$cg" "$T_COLLECTOR" --dir "$d/ct" 2>"$d/ct.log" &
t_track_pid $!
t_ok "collector listens" t_wait_for 10 grep -qs "listening on" "$d/ct.log"
out=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name zst-ct --size 8388608)
ev=$(t_event "$d" zst-ct)
t_is "$(t_jq "$ev" .outcome)" delivered "collector: delivered"
check_zst collector "$d/ct" "$ev"
t_like "$(t_jq "$ev" .collector_path)" '\.core\.zst$' "collector: the event names the .zst"
t_proxy_stop

# A 4 MiB host store keeps a 16 MiB core whole: the quota counts compressed bytes.
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
jq '.store.max_use = "4M" | .store.compress = 1' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
t_ok "daemon restarts with a 4M quota" t_proxy_start "$d"
out=$("$T_HELPERS/cdp-crasher" --name zst-quota --size 16777216)
ev=$(t_event "$d" zst-quota)
t_is "$(t_jq "$ev" .truncated)" false "quota: a 16 MiB core in a 4 MiB store, whole"
t_ok "quota: more than 16 MiB of core" test "$(t_jq "$ev" .bytes)" -gt 16777216
t_ok "quota: less than 4 MiB on disk" test "$(t_jq "$ev" .stored_bytes)" -lt 4194304
t_proxy_stop

# Level 0: the raw core, spliced.
jq '.store.compress = 0 | del(.store.max_use)' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
t_ok "daemon restarts uncompressed" t_proxy_start "$d"
out=$("$T_HELPERS/cdp-crasher" --name zst-off)
ev=$(t_event "$d" zst-off)
id=$(t_jq "$ev" .id)
t_ok "level 0: <id>.core, an ELF file" t_is_elf "$d/store/$id.core"
t_is "$(t_jq "$ev" .compression)" none "level 0: compression none"
t_is "$(t_jq "$ev" .stored_bytes)" "$(t_jq "$ev" .bytes)" "level 0: stored_bytes = bytes"
t_proxy_stop
t_done
