#!/bin/bash
# The sandbox of both programs: capabilities reduced, and a seccomp
# allowlist on every thread. cdp-try-syscall makes allowed and blocked calls
# inside each program's own sandbox; the running daemon (its worker threads
# included) is filtered and holds exactly the capabilities it keeps, and
# still stores, reloads, forwards into a container, and gets core_pattern
# restored (by its keeper, filtered too, with CAP_SYS_PTRACE only) on
# SIGTERM and on a crash of its own. Its writes are confined by Landlock
# (tests/daemon-containment.sh), and the facts about other users' tasks that
# Landlock's ptrace rule denies it come through the keeper. The collector,
# in a simulated container, as root and as an unprivileged user, is
# filtered too.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv
t_core_pattern_save

TRY=$T_HELPERS/cdp-try-syscall
# CAP_DAC_OVERRIDE (1), CAP_DAC_READ_SEARCH (2), CAP_KILL (5), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21)
PROXY_CAPS=0000000000280026
# CAP_SYS_PTRACE (19): the keeper's
KEEPER_CAPS=0000000000080000
NO_CAPS=0000000000000000

# ---- helpers -------------------------------------------------------------

# check_probes LABEL OUTPUT: one test per call of cdp-try-syscall.
check_probes() {
	local label=$1 line name result expect n=0
	while read -r line; do
		[ -n "$line" ] || continue
		name=${line%%=*}
		result=${line#*=}
		result=${result%% *}
		expect=$(t_kv -t "$line" expect)
		n=$((n + 1))
		case $expect in
		allowed) t_ok "$label: $name allowed ($result)" test "$result" != EPERM -a "$result" != ENOSYS ;;
		blocked) t_ok "$label: $name blocked ($result)" test "$result" = EPERM -o "$result" = ENOSYS ;;
		*) t_ok "$label: line '$line' says what to expect" false ;;
		esac
	done <<<"$2"
	t_ok "$label: the helper made its calls ($n)" test "$n" -ge 50
}

# control PROGRAM: without the sandbox, the blocked calls' arguments alone give no EPERM/ENOSYS
# (as root): so the EPERMs above come from the sandbox, not from the arguments.
control() {
	local out bad
	out=$("$TRY" "$1" --no-sandbox)
	bad=$(printf '%s\n' "$out" | grep 'expect=blocked' | grep -v ' unchecked' | grep -E '=(EPERM|ENOSYS) ')
	bad=$(printf '%s' "$bad" | tr '\n' ' ')
	t_is "$bad" "" "$1 without the sandbox: no blocked call fails by its arguments alone"
}

status_field() { awk -v k="$2:" '$1 == k { print $2 }' "$1/status" 2>/dev/null; }

# check_threads LABEL PID CAPS BND: every thread of PID is filtered, no_new_privs, and holds CAPS
# (effective and permitted; BND in the bounding set, "-" for any), none inheritable or ambient.
# Sets NTHREADS.
check_threads() {
	local label=$1 pid=$2 caps=$3 bnd=$4 t tid filt="" capbad="" v
	NTHREADS=0
	for t in /proc/"$pid"/task/*; do
		[ -r "$t/status" ] || continue
		tid=${t##*/}
		NTHREADS=$((NTHREADS + 1))
		[ "$(status_field "$t" Seccomp)" = 2 ] || filt+=" $tid:Seccomp=$(status_field "$t" Seccomp)"
		v=$(status_field "$t" Seccomp_filters)
		[ -n "$v" ] && [ "$v" -ge 1 ] || filt+=" $tid:Seccomp_filters=$v"
		[ "$(status_field "$t" NoNewPrivs)" = 1 ] || filt+=" $tid:NoNewPrivs=$(status_field "$t" NoNewPrivs)"
		for f in CapEff CapPrm; do
			[ "$(status_field "$t" $f)" = "$caps" ] || capbad+=" $tid:$f=$(status_field "$t" $f)"
		done
		for f in CapInh CapAmb; do
			[ "$(status_field "$t" $f)" = "$NO_CAPS" ] || capbad+=" $tid:$f=$(status_field "$t" $f)"
		done
		[ "$bnd" = - ] || [ "$(status_field "$t" CapBnd)" = "$bnd" ] ||
			capbad+=" $tid:CapBnd=$(status_field "$t" CapBnd)"
	done
	t_ok "$label: threads found ($NTHREADS)" test "$NTHREADS" -ge 1
	t_is "$filt" "" "$label: every thread has Seccomp 2, a filter and no_new_privs"
	t_is "$capbad" "" "$label: every thread holds exactly its capabilities"
}

# collector_below PID: the coredump-collector process among PID's descendants.
collector_below() {
	local p=$1 want c
	want=$(readlink -f "$T_COLLECTOR")
	for _ in 1 2 3 4 5; do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$want" ] && { echo "$p"; return 0; }
		c=$(awk '{ print $1 }' "/proc/$p/task/$p/children" 2>/dev/null)
		[ -n "$c" ] || return 1
		p=$c
	done
	return 1
}

# start_collector HOLDER CG DIR [--user] [ARGS...]: coredump-collector in the holder's namespaces
# and cgroup CG, optionally as uid 65534; sets COLLECTOR_PID (the collector itself).
start_collector() {
	local holder=$1 cg=$2 dir=$3 runner=() bg
	shift 3
	if [ "${1:-}" = --user ]; then
		shift
		runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	# umask 022: a socket path the collector binds is not writable by others.
	{
		umask 022
		t_container_run "$holder" "$cg" "${runner[@]}" "$T_COLLECTOR" --compress 0 --dir "$dir" "$@"
	} 2>"$dir.log" &
	bg=$!
	t_track_pid "$bg"
	t_wait_for 10 grep -qs "listening on" "$dir.log" || return 1
	# A subshell runs nsenter, which forks into the pid namespace, where sh (and setpriv) exec it.
	COLLECTOR_PID=$(collector_below "$bg") || return 1
	t_track_pid "$(awk '{ print $4 }' "/proc/$COLLECTOR_PID/stat")"
	t_track_pid "$COLLECTOR_PID"
}

# ---- the helper, in each program's sandbox ---------------------------------

out=$("$TRY" proxy)
t_is "$?" 0 "cdp-try-syscall proxy runs in the proxy's sandbox"
check_probes proxy "$out"
control proxy

out=$("$TRY" collector)
t_is "$?" 0 "cdp-try-syscall collector runs in the collector's sandbox"
check_probes collector "$out"
control collector

t_tmpdir
d=$T_TMP
# An unprivileged collector has no CAP_SETPCAP: reducing must not fail, and the filter is the same.
cp "$TRY" "$d/try-syscall"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$d/try-syscall" collector)
t_is "$?" 0 "cdp-try-syscall collector runs as uid 65534"
check_probes "collector as uid 65534" "$out"

# ---- the daemon: request mode ------------------------------------------------

routes='[
  {"name":"pods","match":{"runtime":["containerd"]},"action":"forward","fallback":"store"},
  {"name":"unprivileged","match":{"runtime":["docker"]},"action":"forward","fallback":"store",
   "trust":"container","address":"'"$d"'/unpriv/collector.sock"},
  {"name":"host","match":{},"action":"store"}
]'
t_proxy_config "$d" request "$routes" '"limits": { "collector_timeout": "2s" }'
t_ok "daemon starts (request)" t_proxy_start "$d"
pid=$(t_proxy_daemon)

check_threads "daemon at start" "$pid" "$PROXY_CAPS" "$PROXY_CAPS"
check_threads "keeper" "$T_PROXY_PID" "$KEEPER_CAPS" "$KEEPER_CAPS"

# Several crashes at once: the pool starts worker threads after the filter was loaded.
par=()
for i in 1 2 3 4 5 6; do
	"$T_HELPERS/cdp-crasher" --name "sbx-par$i" --size 16777216 --threads 2 >"$d/par$i.out" &
	par+=($!)
done
wait "${par[@]}"
stored=0
for i in 1 2 3 4 5 6; do
	ev=$(t_event "$d" "sbx-par$i")
	[ "$(t_jq "$ev" .outcome)" = stored ] && t_is_elf "$d/store/$(t_jq "$ev" .id).core" &&
		stored=$((stored + 1))
done
t_is "$stored" 6 "request: six concurrent crashes stored while sandboxed"
check_threads "daemon after crashes" "$pid" "$PROXY_CAPS" "$PROXY_CAPS"
t_ok "worker threads were started after the filter ($NTHREADS threads)" test "$NTHREADS" -ge 2

# Another user's crash: /proc/<pid>/exe of a task that is not ours needs CAP_SYS_PTRACE.
cp "$T_HELPERS/cdp-crasher" "$d/crasher"
chmod 0755 "$d/crasher"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$d/crasher" --name sbx-nobody)
ev=$(t_event "$d" sbx-nobody)
t_is "$(t_jq "$ev" .outcome)" stored "another user's crash is stored"
t_is "$(t_jq "$ev" .uid)" 65534 "its event has the user's uid"
t_is "$(jq -r .exe "$d/store/$(t_jq "$ev" .id).json")" "$d/crasher" \
	"its metadata has the exe link of another user's task"

# ---- forwarding into a simulated pod, to a sandboxed collector ----------------

pod_uid=$(t_uuid)
pod_cg="kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod_uid//-/_}.slice"
t_cgroup_make "$CG2" "$pod_cg/cri-containerd-$(t_hex64).scope" && side_cg=$T_CG
t_container_start "$side_cg"
holder=$T_HOLDER
app_id=$(t_hex64)
t_cgroup_make "$CG2" "$pod_cg/cri-containerd-$app_id.scope" && app_cg=$T_CG
mkdir -p "$d/pod"
t_ok "collector starts in the pod" start_collector "$holder" "$side_cg" "$d/pod"
check_threads "collector (root) in the pod" "$COLLECTOR_PID" "$NO_CAPS" "$NO_CAPS"
out=$(t_container_run "$holder" "$app_cg" "$T_HELPERS/cdp-crasher" --name sbx-fwd --size 4194304 --threads 2)
ev=$(t_event "$d" sbx-fwd)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "forwarded into the pod's network namespace while sandboxed"
t_is "$(t_jq "$ev" .container.id)" "$app_id" "forwarded: the app container's id"
t_wait_for 5 test -f "$d/pod/$id.json"
t_ok "the sandboxed collector wrote an ELF core" t_is_elf "$d/pod/$id.core"
t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$d/pod/$id.core" 2>/dev/null)" \
	"forwarded: event bytes = the collector's core"
t_is "$(t_kv -t "$out" coredump)" 1 "forwarded: the task got its core"
check_threads "collector after a dump" "$COLLECTOR_PID" "$NO_CAPS" "$NO_CAPS"

# An unprivileged collector on a socket path it owns: connecting needs write access to
# a socket of uid 65534 (CAP_DAC_OVERRIDE), resolving it search access to its directory.
ct_id=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$ct_id.scope" && ct_cg=$T_CG
t_container_start "$ct_cg"
ct_holder=$T_HOLDER
mkdir -m 0700 "$d/unpriv"
chown 65534:65534 "$d/unpriv"
t_ok "unprivileged collector starts" start_collector "$ct_holder" "$ct_cg" "$d/unpriv" --user \
	--address "$d/unpriv/collector.sock"
check_threads "collector as uid 65534" "$COLLECTOR_PID" "$NO_CAPS" -
t_is "$(stat -c %u:%a "$d/unpriv/collector.sock")" 65534:600 "its socket belongs to uid 65534, mode 0600 (only the proxy may connect)"
# The task runs as the collector's user: a collector gets only dumps it could read anyway.
out=$(t_container_run "$ct_holder" "$ct_cg" setpriv --reuid=65534 --regid=65534 --clear-groups "$d/crasher" \
	--name sbx-unpriv --size 1048576)
ev=$(t_event "$d" sbx-unpriv)
id=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "delivered to an unprivileged collector through its socket path"
t_wait_for 5 test -f "$d/unpriv/$id.json"
t_ok "the unprivileged collector wrote an ELF core" t_is_elf "$d/unpriv/$id.core"
t_is "$(stat -c %u "$d/unpriv/$id.core" 2>/dev/null)" 65534 "the core belongs to the collector's user"

# ---- SIGHUP: the config is reloaded in the sandbox ------------------------------------
# (the store and the event log stay the ones it started with: tests/daemon-containment.sh)

# Enough routes that glibc's qsort asks sysinfo for the memory size while checking names.
many=$(for i in $(seq 1 80); do
	printf '{"name":"r%03d","match":{"comm":"never-%d"},"action":"reject"},' "$i" "$i"
done)
cat >"$d/config.json" <<JSON
{
  "listen": { "path": "$d/kernel.sock", "protocol": "request" },
  "events": "$d/events.jsonl",
  "store": { "directory": "$d/store", "compress": 0 },
  "routes": [ $many {"name":"reloaded","match":{},"action":"store"} ]
}
JSON
kill -HUP "$T_PROXY_PID"
t_ok "SIGHUP: configuration reloaded" t_wait_for 10 grep -q "configuration reloaded" "$d/proxy.err" ||
	t_diag "$(tail -n 5 "$d/proxy.err")"
"$T_HELPERS/cdp-crasher" --name sbx-reload >/dev/null
ev=$(t_event "$d" sbx-reload)
t_is "$(t_jq "$ev" .route)" reloaded "after SIGHUP: the new routes are used"
t_ok "after SIGHUP: core in the store" t_is_elf "$d/store/$(t_jq "$ev" .id).core"
t_ok "the daemon is still running" kill -0 "$pid"
t_ok "nothing was refused by the filter" \
	bash -c "! grep -E 'Operation not permitted|Function not implemented' '$d/proxy.err'"
t_ok "no sanitizer report in the daemon's log" bash -c "! grep -E 'Sanitizer|runtime error' '$d/proxy.err'"

t_ok "SIGTERM: the daemon stops cleanly" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "SIGTERM: core_pattern restored, sandboxed"

# ---- plain mode ----------------------------------------------------------------

t_tmpdir
d=$T_TMP
t_sysctl_set /proc/sys/kernel/core_pipe_limit 4
t_proxy_config "$d" plain '[{"name":"host","match":{},"action":"store"}]'
# (ASan, in a sanitizer build, would take the SIGSEGV sent below for a bug of ours and exit 1.)
export ASAN_OPTIONS=handle_segv=0
t_ok "daemon starts (plain)" t_proxy_start "$d"
unset ASAN_OPTIONS
check_threads "daemon in plain mode" "$(t_proxy_daemon)" "$PROXY_CAPS" "$PROXY_CAPS"
"$T_HELPERS/cdp-crasher" --name sbx-plain --size 2097152 >/dev/null
ev=$(t_event "$d" sbx-plain)
t_is "$(t_jq "$ev" .outcome)" stored "plain: stored while sandboxed"
t_is "$(t_jq "$ev" .mode)" plain "plain: mode detected"
t_ok "plain: core is ELF" t_is_elf "$d/store/$(t_jq "$ev" .id).core"

# A crash of the daemon itself: the keeper writes core_pattern back and ends the same way.
kill -SEGV "$(t_proxy_daemon)"
wait "$T_PROXY_PID"
t_is "$?" $((128 + 11)) "the daemon died of its SIGSEGV (not of the filter)"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$T_PATTERN_SAVED" "daemon crash: pattern restored by the keeper"
t_done
