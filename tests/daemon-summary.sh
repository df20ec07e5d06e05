#!/bin/bash
# Crash summaries (issue 15, item 4): after a dump is stored and the task
# released, coredump-proxy-summary reads the core (unprivileged, its own
# seccomp filter, rlimits, a wall-clock limit) and the runner merges
# {"status","build_id","modules","frames"} into <id>.json under "summary".
# A summary that fails, crashes, prints garbage or times out says so there
# and never touches the core.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_fault_injection
t_require_cgroup2
t_require_cmd jq readelf zstd python3 unshare nsenter
t_core_pattern_save
t_tmpdir
d=$T_TMP
SUMMARY=$top_builddir/coredump-proxy-summary
crasher_id=$(readelf -n "$T_HELPERS/cdp-crasher" | sed -n 's/.*Build ID: //p')
[ -n "$crasher_id" ] || t_skip_all "the crasher has no build-id"

# summary_of DIR ID: waits for the summary in DIR/ID.json and prints it.
summary_of() {
	t_wait_for 20 bash -c "jq -e .summary '$1/$2.json' >/dev/null 2>&1" || return 1
	jq -c .summary "$1/$2.json"
}
crash() { # crash NAME [ARGS]: the event's id
	local name=$1 ev
	shift
	"$T_HELPERS/cdp-crasher" --name "$name" "$@" >/dev/null
	ev=$(t_event "$d" "$name") || return 1
	t_jq "$ev" .id
}
# check_ok LABEL SUMMARY
check_ok() {
	t_is "$(t_jq "$2" .status)" ok "$1: status ok"
	t_is "$(t_jq "$2" .build_id)" "$crasher_id" "$1: the executable's build-id is readelf's"
	t_is "$(t_jq "$2" .frames[0].function)" cdp_crasher_fault "$1: the top frame is the faulting function"
	t_like "$(t_jq "$2" .frames[0].module)" '/cdp-crasher$' "$1: in the crasher"
	t_ok "$1: the top frame has an offset" test "$(t_jq "$2" .frames[0].offset)" -gt 0
	t_ok "$1: more than one frame" test "$(t_jq "$2" '.frames | length')" -gt 1
	t_ok "$1: libc is a module with a build-id" \
		test -n "$(t_jq "$2" '.modules[] | select(.name | test("libc[.-]")) | .build_id')"
}

# ---- the host store, raw cores ---------------------------------------------------
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"
# The runner was forked before the daemon confined itself and parses an untrusted program's
# output: of its capabilities only CAP_SETUID and CAP_SETGID (for the program to become nobody) and
# CAP_KILL (to end it, then nobody's, at its time limit).
runner=$(pgrep -x cdp-summary -P "$(t_proxy_daemon)" | head -n 1)
t_ok "the summary runner is running" test -n "$runner"
t_is "$(awk '/^CapEff:/ { print $2 }' "/proc/$runner/status")" 00000000000000e0 "the runner keeps CAP_SETUID, CAP_SETGID and CAP_KILL only"
t_is "$(awk '/^CapBnd:/ { print $2 }' "/proc/$runner/status")" 00000000000000e0 "its bounding set too"
t_is "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$runner/status")" 1 "and no_new_privs"
t_is "$(for f in "/proc/$runner/fd"/*; do case ${f##*/} in 0 | 1 | 2) ;; *) readlink "$f" | sed 's/socket:.*/socket/' ;; esac; done | sort | tr '\n' ' ')" \
	"$d/store socket " "no fd but stdio, its socket and the store's directory"
id=$(crash sum-raw)
s=$(summary_of "$d/store" "$id")
t_ok "raw: a summary in <id>.json" test -n "$s"
check_ok raw "$s"
t_is "$(stat -c %s "$d/store/$id.core")" "$(jq .stored_bytes "$d/store/$id.json")" "raw: the core is as stored"
t_is "$(jq -c '[.id == "'"$id"'", .bytes > 0, .signal]' "$d/store/$id.json")" '[true,true,11]' "raw: the rest of the metadata is still there"
t_ok "raw: the time it took is logged" grep -Eq "summary $id: done \([0-9]+ ms\)" "$d/proxy.err"
t_diag "small raw core ($(jq .bytes "$d/store/$id.json") bytes): $(grep -o "summary $id: done ([0-9]* ms)" "$d/proxy.err")"
core_raw=$d/store/$id.core
cp "$core_raw" "$d/good.core"

# A distribution's stripped binary without its debug package (dash): libdwfl, not finding its
# debug file, begins a debuginfod client, which makes sockets at once. The filter refuses them
# (it used to kill the program: "killed by signal 31"), and the summary goes on with what is local.
sh -c 'kill -SEGV $$' 2>/dev/null
sh_ev=$(t_event "$d" sh)
sh_sum=$(summary_of "$d/store" "$(t_jq "$sh_ev" .id)")
t_is "$(t_jq "$sh_sum" .status)" ok "a stripped /bin/sh: status ok ($(t_jq "$sh_sum" .error))"
t_is "$(t_jq "$sh_sum" .build_id)" "$(readelf -n "$(readlink -f /bin/sh)" | sed -n 's/.*Build ID: //p')" \
	"a stripped /bin/sh: its build-id"

# The summary program on its own, run as root: it drops to nobody before reading.
t_ok "program: valid JSON for a good core" bash -c "set -o pipefail; '$SUMMARY' <'$d/good.core' | jq -e '.status == \"ok\"' >/dev/null"
t_like "$("$T_PROXY" list --dir "$d/store" | grep "$id")" " cdp_crasher_fault +[0-9.]+[BKMG] +[0-9.]+[BKMG] +$id" "list: the top frame's function"
t_like "$("$T_PROXY" list --dir "$d/store" | head -n 1)" " CONTAINER +TOP +SIZE +STORED +ID$" "list: a TOP column"

# A raw 64 MiB core, timed (the log line has the time).
id=$(crash sum-big-raw --size 67108864)
s=$(summary_of "$d/store" "$id")
t_is "$(t_jq "$s" .status)" ok "64 MiB raw: status ok"
t_diag "64 MiB raw core: $(grep -o "summary $id: done ([0-9]* ms)" "$d/proxy.err")"
t_proxy_stop

# store.summary false: none; a summary that is not a boolean is refused.
jq '.store.summary = false' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
t_ok "daemon starts without summaries" t_proxy_start "$d"
id=$(crash sum-off)
t_ok "off: the dump is stored" test -s "$d/store/$id.json"
sleep 1
t_is "$(jq -c .summary "$d/store/$id.json")" null "off: no summary"
t_proxy_stop
jq '.store.summary = "yes"' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
t_like "$("$T_PROXY" check-config "$d/config.json" 2>&1)" "summary" "check-config: store.summary must be a boolean"
t_ok "check-config: and fails" bash -c "! '$T_PROXY' check-config '$d/config.json' >/dev/null 2>&1"

# ---- compressed cores, the default --------------------------------------------
T_STORE_COMPRESS=3 t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts compressing" t_proxy_start "$d"
id=$(crash sum-zst)
s=$(summary_of "$d/store" "$id")
check_ok zst "$s"
t_ok "zst: the core still decompresses" bash -c "zstd -dc '$d/store/$id.core.zst' | head -c 4 | grep -q ELF"

# A 64 MiB core, timed (the log line has the time).
id=$(crash sum-big --size 67108864)
s=$(summary_of "$d/store" "$id")
t_is "$(t_jq "$s" .status)" ok "64 MiB: status ok"
t_diag "64 MiB zst core: $(grep -o "summary $id: done ([0-9]* ms)" "$d/proxy.err")"
t_proxy_stop

# ---- a core cut by the quota ------------------------------------------------------
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
jq '.store.max_use = "2M"' "$d/config.json" >"$d/c2.json" && mv "$d/c2.json" "$d/config.json"
rm -f "$d"/store/*
t_ok "daemon starts with a 2M quota" t_proxy_start "$d"
id=$(crash sum-cut --size 16777216)
t_is "$(jq .truncated "$d/store/$id.json")" true "cut: the core is truncated"
size=$(stat -c %s "$d/store/$id.core")
s=$(summary_of "$d/store" "$id")
t_like "$(t_jq "$s" .status)" '^(ok|partial|failed)$' "cut: a status ($(t_jq "$s" .status): $(t_jq "$s" .error))"
t_is "$(stat -c %s "$d/store/$id.core")" "$size" "cut: the core is untouched"
t_proxy_stop
rm -f "$d"/store/*

# ---- what goes wrong: each makes the summary say so; the dump stays --------------
t_proxy_config "$d" request '[{"name":"host","match":{},"action":"store"}]'
# fault FAULTS NAME WANT-STATUS ERROR-REGEX
fault() {
	local id s
	CDP_FAULT=$1 t_proxy_start "$d" || return 1
	id=$(crash "$2")
	s=$(summary_of "$d/store" "$id")
	t_is "$(t_jq "$s" .status)" "$3" "$2: status $3"
	t_like "$(t_jq "$s" .error)" "$4" "$2: the error says why"
	t_ok "$2: the core is intact" t_is_elf "$d/store/$id.core"
	t_is "$(stat -c %s "$d/store/$id.core")" "$(jq .stored_bytes "$d/store/$id.json")" "$2: as stored"
	t_ok "$2: the daemon is alive" kill -0 "$(t_proxy_daemon)"
	t_proxy_stop
}
start=$EPOCHREALTIME
fault summary-sleep,summary-timeout-ms:1500 sum-slow timeout "time limit"
t_ok "timeout: the runner waited no longer than its limit" t_lt "$(t_elapsed "$start")" 8
t_ok "timeout: the sleeping summary was killed" bash -c "! pgrep -f '^coredump-proxy-summary' >/dev/null"
fault summary-garbage sum-garbage failed "malformed output"
fault summary-crash sum-crash failed "killed by signal [0-9]+"
# The seccomp filter: no file can be opened for writing, even one nobody may write.
rm -f /tmp/cdp-summary-write-test
fault summary-open-write sum-write failed "open for writing: Permission denied"
t_ok "seccomp: nothing was created" test ! -e /tmp/cdp-summary-write-test

# ---- hostile cores: bytes flipped in the notes and headers -----------------------
python3 - "$d/good.core" "$d/bad" <<'PY'
import random, struct, sys, os
src = open(sys.argv[1], 'rb').read()
os.makedirs(sys.argv[2], exist_ok=True)
# The PT_NOTE segment: where the threads, files and auxv are.
phoff, = struct.unpack_from('<Q', src, 32); phnum, = struct.unpack_from('<H', src, 56)
notes = []
for i in range(phnum):
    t, _, off, _, _, filesz = struct.unpack_from('<IIQQQQ', src, phoff + 56 * i)
    if t == 4:
        notes.append((off, filesz))
rnd = random.Random(15)
for n in range(40):
    b = bytearray(src)
    off, size = notes[0] if n % 4 else (0, phoff + 56 * phnum)
    for _ in range(1 + n % 8):
        b[off + rnd.randrange(size)] ^= 1 << rnd.randrange(8)
    if n % 10 == 9:
        b = b[:rnd.randrange(64, len(b))]
    open(f'{sys.argv[2]}/{n}.core', 'wb').write(b)
PY
bad=0
for f in "$d"/bad/*.core; do
	out=$(timeout 20 "$SUMMARY" <"$f")
	rc=$?
	# Exit 0 with valid JSON, or killed (SIGSYS from seccomp, a parser crash): never a hang.
	if [ $rc -eq 0 ]; then
		jq -e '.status | test("^(ok|partial|failed)$")' <<<"$out" >/dev/null || { bad=$((bad + 1)); t_diag "$f: $out"; }
	elif [ $rc -eq 124 ]; then
		bad=$((bad + 1))
		t_diag "$f: hung"
	fi
done
t_is "$bad" 0 "hostile: 40 corrupted cores, each a valid summary or a killed program"

# ---- the collector ------------------------------------------------------------------
t_proxy_config "$d" request '[{"name":"ct","match":{"container":true},"action":"forward"},{"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"
mkdir -p "$d/ct"
t_container_run "$T_HOLDER" "$cg" "$T_COLLECTOR" --dir "$d/ct" 2>"$d/ct.log" &
t_track_pid $!
t_ok "collector listens" t_wait_for 10 grep -qs "listening on" "$d/ct.log"
t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name sum-ct >/dev/null
ev=$(t_event "$d" sum-ct)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "collector: delivered"
s=$(summary_of "$d/ct" "$id")
t_is "$(t_jq "$s" .status)" ok "collector: status ok"
t_is "$(t_jq "$s" .build_id)" "$crasher_id" "collector: the build-id"
t_is "$(t_jq "$s" .frames[0].function)" cdp_crasher_fault "collector: the top frame"

# `coredump-proxy info` prints the frames.
info=$("$T_PROXY" info --dir "$d/ct" "$id" 2>&1)
t_like "$info" "cdp_crasher_fault" "info: the top frame's function"
t_like "$info" "$crasher_id" "info: the build-id"
t_proxy_stop
t_done
