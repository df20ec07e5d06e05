#!/bin/bash
# Issue 16: the kernel is acked (KERNEL|WAIT) before the collector answers when the
# route's fallback is the host store, so that it writes while the collector is asked.
# A collector that says no after the kernel has filled the socket still leaves the
# whole core to the fallback, from its first byte; a route whose fallback is reject is
# still answered REJECT before any byte (the task gets no core); a task killed while its
# collector is asked leaves no partial core behind.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter python3
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[
  {"name":"early","match":{"container":true,"comm":"early-*"},"action":"forward","fallback":"store"},
  {"name":"strict","match":{"container":true,"comm":"strict-*"},"action":"forward","fallback":"reject"},
  {"name":"host","match":{},"action":"store"}]' \
	'"limits": { "collector_timeout": "2s" }'
t_ok "daemon starts" t_proxy_start "$d"

uid=$(t_uuid)
slice="kubepods.slice/kubepods-pod${uid//-/_}.slice"
t_ok "pod holder" eval 't_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && t_container_start "$T_CG"'
HOLDER=$T_HOLDER
t_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && SIDE_CG=$T_CG
t_cgroup_make "$CG2" "$slice/cri-containerd-$(t_hex64).scope" && APP_CG=$T_CG
t_container_run "$HOLDER" "$SIDE_CG" "$T_HELPERS/cdp-test-peer" collector @coredump-collector decline-late \
	>"$d/collector.out" 2>&1 &
t_track_pid $!
t_ok "a collector that says no, 1 s late (time enough to look at the queue under load)" t_wait_for 10 grep -qs listening=1 "$d/collector.out"

# Whole: the file holds every byte the core's program headers place (the kernel writes
# skipped pages of a socket dump as zeros), and starts with the ELF magic.
core_whole() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
if data[:4] != b"\x7fELF" or data[4] != 2:
    sys.exit("not an ELF64 core")
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
end = 0
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    end = max(end, p_offset + p_filesz)
if len(data) < end:
    sys.exit("cut: %d of %d bytes" % (len(data), end))
PY
}

# Bytes the kernel has queued on the daemon's side of its connections, while the collector
# waits to answer: the kernel writes only once acked.
queued() { ss -xHn state established 2>/dev/null | awk -v s="$d/kernel.sock" '$4 == s {q += $2} END {print q + 0}'; }
requests() { grep -c request= "$d/collector.out"; }
# crash_asked COMM: crashes COMM in the background, and reads queued() while its collector is asked.
crash_asked() {
	local before
	before=$(requests)
	t_container_run "$HOLDER" "$APP_CG" "$T_HELPERS/cdp-crasher" --name "$1" --size $((4 << 20)) >"$d/$1.out" &
	t_track_pid $!
	t_ok "$1: its collector is asked" t_wait_for 10 bash -c "[ \$(grep -c request= '$d/collector.out') -gt $before ]"
	sleep 0.1
	asked_queue=$(queued)
	ev=$(t_event "$d" "$1")
	out=$(cat "$d/$1.out")
}

# 4 MiB touched: far more than the ~200 KiB the kernel can write before the socket is full.
crash_asked early-no
t_ok "early ack: the kernel wrote while the collector was asked ($asked_queue bytes queued)" \
	t_lt 4096 "$asked_queue"
t_is "$(t_jq "$ev" .outcome)" stored "early ack, collector says no: the fallback stores it"
t_is "$(t_jq "$ev" .reason)" collector-declined "early ack: reason collector-declined"
t_is "$(t_kv -t "$out" coredump)" 1 "early ack: the task dumped core"
core="$d/store/$(t_jq "$ev" .id).core"
t_ok "early ack: the stored core is whole, from its first byte" core_whole "$core"
t_ok "early ack: the core holds the 4 MiB touched" t_lt $((4 << 20)) "$(stat -c %s "$core")"

crash_asked strict-no
t_is "$asked_queue" 0 "reject fallback: not acked while the collector was asked (nothing queued)"
t_is "$(t_jq "$ev" .outcome)" rejected "reject fallback, collector says no: rejected"
t_is "$(t_kv -t "$out" coredump)" 0 "reject fallback: REJECT before any byte, the task got no core"
t_ok "reject fallback: nothing stored" bash -c "! ls '$d/store' | grep -q '$(t_jq "$ev" .id)'"

# Killed while the collector is asked: the kernel stopped part way; no partial core is kept.
t_container_run "$HOLDER" "$APP_CG" "$T_HELPERS/cdp-crasher" --name early-kill --size $((4 << 20)) >"$d/kill.out" &
t_track_pid $!
t_ok "held while the collector is asked" t_wait_for 10 bash -c "[ \$(grep -c request= '$d/collector.out') -ge 3 ]"
victim=$(pgrep -x early-kill)
[ -n "$victim" ] && kill -KILL "$victim"
ev=$(t_event "$d" early-kill)
t_is "$(t_jq "$ev" .outcome)" failed "killed while asked: failed"
t_is "$(t_jq "$ev" .reason)" task-gone "killed while asked: reason task-gone"
t_ok "killed while asked: no partial core kept" bash -c "! ls '$d/store' | grep -q '$(t_jq "$ev" .id)'"
t_ok "the daemon is still running" kill -0 "$T_PROXY_PID"
t_proxy_stop
t_done
