#!/bin/bash
# A crashing task controls its own memory: here its argv is backed by a FUSE
# page whose read is never answered (issue 10: a worker reading
# /proc/<pid>/cmdline hung for ever, 64 such crashes stopped the daemon and
# SIGTERM never completed). The dump completes within a few seconds with the
# cmdline absent or partial, and such crashes do not stop an ordinary one from
# being stored. Since Linux 4.18 the kernel itself keeps such a FUSE page from
# blocking /proc/<pid>/cmdline; the task's mmap_lock held up (by a reader stuck
# on that page) still blocks it: the daemon must answer the kernel without
# waiting for it, and SIGTERM must stop the daemon while such a dump is in
# flight.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
[ -c /dev/fuse ] && grep -qw fuse /proc/filesystems || t_skip_all "no FUSE here (/dev/fuse)"
t_core_pattern_save

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]' '"limits": { "max_concurrent": 2 }'
t_ok "daemon starts" t_proxy_start "$d"

# fuse_crash NAME: a crash whose argv tail never loads, in the background; its facts go to $d/NAME.out.
fuse_crash() {
	mkdir -p "$d/mnt-$1"
	"$T_HELPERS/cdp-fuse-crasher" --dir "$d/mnt-$1" --name "$1" >"$d/$1.out" 2>"$d/$1.err" &
	t_track_pid $!
}

# ---- one such crash -----------------------------------------------------------------------
start=$EPOCHREALTIME
fuse_crash fuse-1
ev=$(t_event "$d" fuse-1 10)
secs=$(t_elapsed "$start")
t_is "$(t_jq "$ev" .outcome)" stored "argv that never loads: the dump is stored"
t_ok "within a few seconds (took $secs s)" t_lt "$secs" 5
id=$(t_jq "$ev" .id)
t_ok "the whole core is there" t_is_elf "$d/store/$id.core"
cmdline=$(jq -r '.cmdline // ""' "$d/store/$id.json" 2>/dev/null)
t_ok "its cmdline is absent or partial (${#cmdline} characters of 16 KiB)" \
	test -f "$d/store/$id.json" -a "${#cmdline}" -lt 16000
t_ok "the task got its core" t_wait_for 5 grep -qs "coredump=1" "$d/fuse-1.out"
t_ok "the helper removed its mount" t_wait_for 5 bash -c "! grep -q ' $d/mnt-fuse-1 ' /proc/self/mountinfo"

# ---- three at once with max_concurrent 2, then an ordinary crash ---------------------------
for i in 2 3 4; do
	fuse_crash "fuse-$i"
done
# Their connections are in (or the kernel is past them) before the ordinary one comes.
t_wait_for 5 t_count_above '"comm":"fuse-' "$d/events.jsonl" 3 ||
	t_wait_for 1 bash -c "grep -qs 'never answered' $d/fuse-2.err $d/fuse-3.err $d/fuse-4.err"
start=$EPOCHREALTIME
out=$("$T_HELPERS/cdp-crasher" --name plain-after) &
plain=$!
ev=$(t_event "$d" plain-after 10)
secs=$(t_elapsed "$start")
t_is "$(t_jq "$ev" .outcome)" stored "three blocking crashes with max_concurrent 2: an ordinary crash is still stored"
t_ok "within 5 s (took $secs s)" t_lt "$secs" 5
wait "$plain" 2>/dev/null
t_ok "the three blocking crashes are stored too" t_wait_for 10 t_count_above '"comm":"fuse-' "$d/events.jsonl" 3
t_is "$(grep '"comm":"fuse-' "$d/events.jsonl" | grep -c '"outcome":"stored"')" 4 "every blocking crash: stored"

# ---- the task's mmap_lock held up: every reader of its memory blocks ------------------------
# The kernel refuses the FUSE argv above to /proc/<pid>/cmdline (FOLL_ANON, since 4.18): its
# readers get the first part. Held up mmap_lock (see cdp-fuse-crasher --hold-mm) blocks them,
# for 10 s here; the kernel's own dump waits for the lock too, so the dump ends after the hold.
# The daemon must not wait for it before it answers the kernel: within 5 s the dump is acked.
# The hold comes after the crash reached the socket: the daemon is stopped meanwhile (the
# connection waits in the accept queue), then it meets the hold when it identifies the task.
mkdir -p "$d/mnt-held"
kill -STOP "$(t_proxy_daemon)"
"$T_HELPERS/cdp-fuse-crasher" --dir "$d/mnt-held" --name held-mm --hold-mm 10000 >"$d/held.out" 2>"$d/held.err" &
t_track_pid $!
t_wait_for 5 grep -qs "held up" "$d/held.err"
kill -CONT "$(t_proxy_daemon)"
held_pid=$(sed -n 's/.*mmap_lock of pid \([0-9]*\) held up/\1/p' "$d/held.err")
state_of_held() {
	"$T_PROXY" --config "$d/config.json" status 2>/dev/null |
		jq -r --argjson p "${held_pid:-0}" '.in_flight[] | select(.pid == $p) | .state'
}
past_identify() { [[ $(state_of_held) =~ ^(acked|streaming)$ ]]; }
start=$EPOCHREALTIME
# (t_wait_for counts whole seconds: 6 is at least 5.)
t_ok "memory held up: the daemon answers the kernel anyway, within 5 s" t_wait_for 6 past_identify
t_diag "state of the held dump after $(t_elapsed "$start") s: $(state_of_held)"
ev=$(t_event "$d" held-mm 20)
t_is "$(t_jq "$ev" .outcome)" stored "memory held up: stored once the hold ends"
id=$(t_jq "$ev" .id)
cmdline=$(jq -r '.cmdline // ""' "$d/store/$id.json" 2>/dev/null)
# Nothing of it can be read during the hold: a whole cmdline (4 KiB, the daemon's cap) means it waited.
t_ok "its cmdline is absent or partial (${#cmdline} characters)" \
	test -f "$d/store/$id.json" -a "${#cmdline}" -lt 4096

# ---- SIGTERM with a held crash in flight --------------------------------------------------------
# A hold that never ends: SIGTERM (and a second one, which cuts the grace given to dumps in
# flight) must stop the daemon within a few seconds; a worker stuck reading the task never ends.
mkdir -p "$d/mnt-forever"
kill -STOP "$(t_proxy_daemon)"
"$T_HELPERS/cdp-fuse-crasher" --dir "$d/mnt-forever" --name held-forever --hold-mm 0 >/dev/null 2>"$d/forever.err" &
t_track_pid $!
t_wait_for 5 grep -qs "held up" "$d/forever.err"
kill -CONT "$(t_proxy_daemon)"
held_pid=$(sed -n 's/.*mmap_lock of pid \([0-9]*\) held up/\1/p' "$d/forever.err")
t_wait_for 5 bash -c "[ -n \"\$('$T_PROXY' --config '$d/config.json' status | jq '.in_flight[] | select(.pid == ${held_pid:-0})')\" ]"
gone() { ! kill -0 "$T_PROXY_PID" 2>/dev/null; }
start=$EPOCHREALTIME
kill -TERM "$T_PROXY_PID"
t_wait_for 3 gone || kill -TERM "$T_PROXY_PID"
t_ok "SIGTERM (twice) with a held crash in flight: the daemon exits within 8 s" t_wait_for 5 gone
t_diag "the daemon took $(t_elapsed "$start") s to stop"
gone && wait "$T_PROXY_PID"
t_is "$?" 0 "and exits 0"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "core_pattern is restored"
t_done
