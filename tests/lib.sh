# shellcheck shell=bash
# Shared helpers for the real-kernel tests (sourced, bash).
#
# - TAP output: t_ok, t_is, t_like, t_done, t_skip_all, t_diag
# - machine state: t_core_pattern_save (restored on exit), t_sysctl_set
# - simulated containers: t_cgroup_make, t_container_start, t_container_run
# - cleanup: everything registered here is undone by an EXIT trap: processes
#   we started (by pid), cgroups we made (deepest first), temp dirs, sysctls
#   and core_pattern (exactly the value found).

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# Run by hand (not by make check): the build dir tests/run uses, else in-tree.
if [ -z "${top_builddir:-}" ]; then
	top_builddir=$top_srcdir
	[ -x "$top_srcdir/build/coredump-proxy" ] && top_builddir=$top_srcdir/build
fi
top_builddir=$(cd "$top_builddir" && pwd)
top_srcdir=$(cd "$top_srcdir" && pwd)
T_HELPERS="$top_builddir/tests/helpers"
T_PROXY="$top_builddir/coredump-proxy"
T_COLLECTOR="$top_builddir/coredump-collector"

T_COUNT=0
T_FAILED=0
T_PIDS=()
T_CGROUPS=()
T_DIRS=()
T_SYSCTLS=()
T_AT_EXIT=()
T_PATTERN_SAVED=""
T_PATTERN_HAVE=0
T_LOCKER=""

CG2=${CDP_CGROUP2:-}
if [ -z "$CG2" ]; then
	CG2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
fi
CG1_SYSTEMD=/sys/fs/cgroup/systemd

t_diag() { printf '# %s\n' "$*"; }

t_ok() { # t_ok NAME CMD... : passes when CMD succeeds
	local name=$1
	shift
	T_COUNT=$((T_COUNT + 1))
	if "$@"; then
		echo "ok $T_COUNT - $name"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_COUNT - $name"
	fi
}

t_is() { # t_is GOT WANT NAME
	T_COUNT=$((T_COUNT + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $T_COUNT - $3"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_COUNT - $3"
		t_diag "got '$1', want '$2'"
	fi
}

t_like() { # t_like GOT EXTENDED-REGEX NAME
	T_COUNT=$((T_COUNT + 1))
	if [[ $1 =~ $2 ]]; then
		echo "ok $T_COUNT - $3"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_COUNT - $3"
		t_diag "got '$1', want a match of '$2'"
	fi
}

t_done() {
	echo "1..$T_COUNT"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

t_skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

t_require_root() {
	[ "$(id -u)" -eq 0 ] || t_skip_all "needs root (core_pattern, cgroups, namespaces)"
}

t_require_socket_dumps() {
	t_require_root
	[ -r /proc/sys/kernel/core_modes ] && grep -qw socket /proc/sys/kernel/core_modes ||
		t_skip_all "kernel $(uname -r) has no socket coredumps (needs 6.16+)"
}

t_require_request_mode() {
	t_require_socket_dumps
	t_core_pattern_save # the probe changes core_pattern: only under the lock
	local old
	old=$(cat /proc/sys/kernel/core_pattern)
	# Probed by writing: 6.16 refuses "@@" at write time. Restored at once.
	if ! printf '@@/run/cdp-probe.sock' >/proc/sys/kernel/core_pattern 2>/dev/null; then
		t_skip_all "kernel $(uname -r) refuses @@ patterns (needs 6.17+)"
	fi
	printf '%s' "$old" >/proc/sys/kernel/core_pattern
}

# Tests of failure paths the kernel cannot be made to take (CDP_FAULT=..., proxy/base/fault.h).
t_require_fault_injection() {
	grep -qs 'define CDP_FAULT_INJECTION 1' "$top_builddir/config.h" ||
		t_skip_all "built without --enable-fault-injection (tests/run always passes it)"
}

t_require_cgroup2() {
	[ -n "$CG2" ] && [ -d "$CG2" ] || t_skip_all "no cgroup2 mount"
}

t_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip_all "needs $c"
	done
}

# ---- cleanup -------------------------------------------------------------

# t_descendants PID: PID's children, grandchildren... (what a tracked
# background job started: nsenter, unshare, the program they run).
t_descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		t_descendants "$c"
	done
}

t_cleanup() {
	local i pid all=()
	for pid in "${T_PIDS[@]}"; do
		all+=("$pid" $(t_descendants "$pid"))
	done
	for ((i = ${#all[@]} - 1; i >= 0; i--)); do
		# A stopped process would keep a SIGKILL pending no longer than it takes; CONT for clarity.
		kill -KILL "${all[i]}" 2>/dev/null
		kill -CONT "${all[i]}" 2>/dev/null
	done
	for pid in "${all[@]}"; do
		# Only our own children can be waited for; others are polled until gone.
		wait "$pid" 2>/dev/null
		for _ in $(seq 1 100); do
			[ -e "/proc/$pid" ] || break
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
			sleep 0.05
		done
	done
	local handoff=()
	for ((i = ${#T_CGROUPS[@]} - 1; i >= 0; i--)); do
		local d=${T_CGROUPS[i]}
		for _ in $(seq 1 100); do
			rmdir "$d" 2>/dev/null && break
			[ -d "$d" ] || break
			# Another test's cgroups below a parent we made (kubepods.slice, system.slice
			# are shared): whoever finishes last removes it (t_cgroup_handoff).
			if [ -n "$(find "$d" -mindepth 1 -maxdepth 1 -type d -print -quit 2>/dev/null)" ]; then
				handoff+=("$d")
				break
			fi
			sleep 0.05
		done
	done
	t_cgroup_handoff "${handoff[@]}"
	for ((i = ${#T_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${T_AT_EXIT[i]}"
	done
	for ((i = ${#T_SYSCTLS[@]} - 1; i >= 0; i--)); do
		local entry=${T_SYSCTLS[i]}
		printf '%s' "${entry#*=}" >"${entry%%=*}"
	done
	if [ "$T_PATTERN_HAVE" = 1 ]; then
		printf '%s' "$T_PATTERN_SAVED" >/proc/sys/kernel/core_pattern ||
			printf '%s\n' "coredump-proxy tests: could not restore core_pattern '$T_PATTERN_SAVED'" >&2
	fi
	for d in "${T_DIRS[@]}"; do
		rm -rf "$d"
	done
	[ -n "${T_LOCK_READY:-}" ] && rm -f "$T_LOCK_READY"
	# Last: only once core_pattern and the sysctls are back may another test take the lock.
	if [ -n "$T_LOCKER" ]; then
		kill -KILL "$T_LOCKER" 2>/dev/null
		wait "$T_LOCKER" 2>/dev/null
	fi
}
# t_cgroup_handoff [DIR...]: cgroups we made that other tests still use are
# listed in a shared file; every test's cleanup then removes those that have
# become empty, deepest first, so the last test out leaves nothing behind.
t_cgroup_handoff() {
	local list=/run/coredump-proxy-tests.cgroups d
	(
		flock 8
		{ [ -f "$list" ] && cat "$list"; printf '%s\n' "$@"; } | awk 'NF' | sort -u |
			awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- >"$list.new"
		: >"$list"
		while IFS= read -r d; do
			[ -d "$d" ] || continue
			rmdir "$d" 2>/dev/null || printf '%s\n' "$d" >>"$list"
		done <"$list.new"
		rm -f "$list.new"
		[ -s "$list" ] || rm -f "$list"
	) 8>/run/coredump-proxy-tests.cgroups.lock
}

trap t_cleanup EXIT
trap 'exit 130' INT TERM

t_track_pid() { T_PIDS+=("$1"); }

# t_at_exit CMD: runs CMD (eval) at exit, once processes are gone and cgroups removed.
t_at_exit() { T_AT_EXIT+=("$1"); }

# These helpers return through globals, not stdout: a $(...) subshell would
# lose what they register for cleanup.

t_tmpdir() { # sets T_TMP to a private temp dir removed at exit
	T_TMP=$(mktemp -d /tmp/cdp-test.XXXXXX) || return 1
	chmod 0755 "$T_TMP"
	T_DIRS+=("$T_TMP")
}

# Serializes the tests that change machine-global settings (core_pattern and
# the sysctls) so that `make check -j` cannot interleave them; then saves the
# current pattern for the EXIT trap.
#
# The lock is held by a small process of its own, not by a descriptor of
# this shell: every background process a test starts would inherit such a
# descriptor, and one of them outliving the test would hold the lock for
# ever. The holder gives the lock up when this shell is gone.
t_core_pattern_save() {
	[ "$T_PATTERN_HAVE" = 1 ] && return 0
	local ready parent=$$
	ready=$(mktemp /tmp/cdp-lock.XXXXXX)
	(
		exec 9>/run/coredump-proxy-tests.lock
		flock 9
		echo locked >"$ready"
		while kill -0 "$parent" 2>/dev/null; do sleep 1; done
	) </dev/null >/dev/null 2>&1 &
	T_LOCKER=$!
	T_LOCK_READY=$ready # removed by the cleanup if the test ends while it waits
	until grep -qs locked "$ready"; do sleep 0.05; done
	rm -f "$ready"
	T_LOCK_READY=""
	T_PATTERN_SAVED=$(cat /proc/sys/kernel/core_pattern)
	T_PATTERN_HAVE=1
}

t_core_pattern_set() { printf '%s' "$1" >/proc/sys/kernel/core_pattern; }

t_sysctl_set() { # t_sysctl_set /proc/sys/... VALUE
	T_SYSCTLS+=("$1=$(cat "$1")")
	printf '%s' "$2" >"$1"
}

# ---- waiting -------------------------------------------------------------

t_wait_for() { # t_wait_for SECONDS CMD... : polls CMD every 50 ms
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
	return 0
}

# ---- simulated containers ------------------------------------------------

# t_cgroup_make ROOT REL: creates ROOT/REL, remembering each directory we
# made; sets T_CG to the full path. Simulated containers sit where the
# runtimes put them (system.slice/docker-<id>.scope, kubepods.slice/...,
# /docker/<id>, lxc.payload.<name>): the daemon recognises a runtime's names
# only there. Every test that makes them holds the lock of
# t_core_pattern_save, so the shared parents (system.slice, kubepods.slice)
# are made and removed by one test at a time.
t_cgroup_make() {
	local path=$1 comp
	local -a comps
	IFS=/ read -r -a comps <<<"$2"
	for comp in "${comps[@]}"; do
		[ -n "$comp" ] || continue
		path="$path/$comp"
		if [ ! -d "$path" ]; then
			mkdir "$path" || return 1
			T_CGROUPS+=("$path")
		fi
	done
	T_CG=$path
}

# t_cgroup_remove DIR: removes a cgroup we made before the end of the test.
t_cgroup_remove() {
	local i
	rmdir "$1" || return 1
	for i in "${!T_CGROUPS[@]}"; do
		[ "${T_CGROUPS[i]}" = "$1" ] && unset 'T_CGROUPS[i]'
	done
	T_CGROUPS=("${T_CGROUPS[@]}")
}

# t_container_start CGDIR [NSFLAGS...]: starts a holder process in new
# namespaces inside cgroup directory CGDIR (a cgroup2 or a v1 directory; the
# process joins it by writing 0 to cgroup.procs; "-" for none). Sets T_HOLDER
# to its host pid.
t_container_start() {
	local cg=$1 out pid child
	shift
	local flags=("$@")
	[ ${#flags[@]} -gt 0 ] || flags=(--net --pid --mount --fork --mount-proc)
	out=$(mktemp /tmp/cdp-holder.XXXXXX)
	unshare "${flags[@]}" sh -c '{ [ "$1" = - ] || echo 0 > "$1/cgroup.procs"; } && echo joined > "$2" && exec sleep 3600' \
		holder "$cg" "$out" >/dev/null 2>&1 &
	pid=$!
	t_track_pid "$pid"
	if ! t_wait_for 10 grep -q joined "$out"; then
		rm -f "$out"
		return 1
	fi
	rm -f "$out"
	# With --fork the holder is unshare's child; without it, unshare itself.
	child=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
	[ -n "$child" ] || child=$pid
	[ "$child" = "$pid" ] || t_track_pid "$child"
	T_HOLDER=$child
}

# t_container_run HOLDER CGDIR CMD...: runs CMD in the holder's namespaces
# and in CGDIR, in the foreground. Enters the pid namespace too, so CMD's
# parent there is nsenter, which must not see a crash: crash from a child
# that CMD reaps (cdp-crasher does).
t_container_run() {
	local holder=$1 cg=$2
	shift 2
	nsenter -t "$holder" -n -p -m -- sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' \
		run "$cg" "$@"
}

# t_rootfs DIR: a small root filesystem for real container runtimes: busybox,
# lib -> usr/lib and lib64 -> usr/lib64, and an empty usr/ onto which the
# runtime bind-mounts the host's /usr read-only, so that dynamically linked
# test programs run inside.
t_rootfs() {
	local c
	mkdir -p "$1"/bin "$1"/usr "$1"/proc "$1"/dev "$1"/sys "$1"/tmp "$1"/etc "$1"/run || return 1
	cp "$(command -v busybox)" "$1/bin/busybox" || return 1
	for c in sh sleep cat echo ls touch test mkdir rm; do ln -sf busybox "$1/bin/$c"; done
	ln -sfn usr/lib "$1/lib"
	ln -sfn usr/lib64 "$1/lib64"
}

# t_cgroup_adopt DIR...: cgroup directories made by someone else for this test
# (a user's, in a subtree delegated to it), parents first: removed at exit.
t_cgroup_adopt() { T_CGROUPS+=("$@"); }

# t_as UID CMD...: CMD as uid and gid UID, no supplementary groups.
t_as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# Hex identifiers the way runtimes make them.
t_hex64() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
t_uuid() { cat /proc/sys/kernel/random/uuid; }

# ---- key=value files written by the test helpers -------------------------

t_kv() { # t_kv FILE-OR-TEXT KEY: the value of KEY= in a key=value file (or text with -t)
	if [ "$1" = -t ]; then
		printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$3=//p" | head -n 1
	else
		sed -n "s/^$2=//p" "$1" | head -n 1
	fi
}

t_is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Starts cdp-test-server in the background on DIR/kernel.sock; waits until it listens.
t_test_server() { # t_test_server DIR ARGS...
	local dir=$1
	shift
	"$T_HELPERS/cdp-test-server" --socket "$dir/kernel.sock" --out "$dir" "$@" 2>"$dir/server.err" &
	T_SERVER=$!
	t_track_pid "$T_SERVER"
	t_wait_for 10 test -e "$dir/ready"
}

# ---- the daemon ------------------------------------------------------------

# t_proxy_config DIR PROTOCOL ROUTES-JSON [EXTRA-TOP-LEVEL-JSON]: writes
# DIR/config.json with the socket, events and store inside DIR. The store
# keeps raw <id>.core files (most tests look into the core) unless
# T_STORE_COMPRESS gives a zstd level.
t_proxy_config() {
	local dir=$1 protocol=$2 routes=$3 extra=${4:-}
	cat >"$dir/config.json" <<JSON
{
  "listen": { "path": "$dir/kernel.sock", "protocol": "$protocol" },
  "events": "$dir/events.jsonl",
  "store": { "directory": "$dir/store", "compress": ${T_STORE_COMPRESS:-0} },
  ${extra:+$extra,}
  "routes": $routes
}
JSON
}

t_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; } # t_elapsed START
t_lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }                       # t_lt A B: A < B
t_count() { local n; n=$(grep -c -- "$1" "$2" 2>/dev/null); echo "${n:-0}"; } # t_count PATTERN FILE
t_count_above() { [ "$(t_count "$1" "$2")" -gt "$3" ]; }          # t_count_above PATTERN FILE N

# t_proxy_start DIR [ARGS...]: starts coredump-proxy on DIR/config.json with
# --install-pattern; waits until it listens. Sets T_PROXY_PID. A command in
# T_PROXY_WRAP (e.g. "unshare -n --", which execs the daemon) runs it.
T_PROXY_WRAP=()
t_proxy_start() {
	local dir=$1 before
	shift
	# The log is appended to across restarts: wait for one more "listening" line.
	before=$(t_count "listening on" "$dir/proxy.err")
	"${T_PROXY_WRAP[@]}" "$T_PROXY" --config "$dir/config.json" --install-pattern --log-level debug "$@" \
		>>"$dir/proxy.out" 2>>"$dir/proxy.err" &
	T_PROXY_PID=$!
	t_track_pid "$T_PROXY_PID"
	t_wait_for 10 t_count_above "listening on" "$dir/proxy.err" "$before" ||
		{ t_diag "proxy did not start: $(tail -n 5 "$dir/proxy.err")"; return 1; }
}

# t_proxy_stop: SIGTERM and wait; returns the daemon's exit status.
t_proxy_stop() {
	kill -TERM "$T_PROXY_PID" 2>/dev/null
	wait "$T_PROXY_PID"
}

# t_proxy_daemon: the pid of the daemon proper. T_PROXY_PID is its keeper, the
# process that was started (it holds core_pattern and forwards signals); the
# daemon that serves dumps is the keeper's only child. A daemon without a
# keeper (an older build) is its own: a test then fails rather than hangs.
t_proxy_daemon() {
	local c
	c=$(awk '{ print $1 }' "/proc/$T_PROXY_PID/task/$T_PROXY_PID/children" 2>/dev/null)
	echo "${c:-$T_PROXY_PID}"
}

# t_gone PID: the process has exited (a zombie counts: its files are closed).
t_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# t_proxy_kill: SIGKILL of the keeper, as an OOM kill or `kill -9` of the
# service would do; the daemon dies with it (PR_SET_PDEATHSIG). Returns once
# both are gone, so that a new daemon finds the socket's lock free.
t_proxy_kill() {
	local child
	child=$(t_proxy_daemon)
	kill -KILL "$T_PROXY_PID" 2>/dev/null
	wait "$T_PROXY_PID" 2>/dev/null
	t_wait_for 10 t_gone "$child"
}

# t_event DIR COMM: waits for the event line of the crash named COMM and prints it.
t_event() {
	local f=$1/events.jsonl
	t_wait_for "${3:-15}" grep -q "\"comm\":\"$2\"" "$f" || return 1
	grep "\"comm\":\"$2\"" "$f" | tail -n 1
}

# t_jq JSON FILTER: one value, raw.
t_jq() { printf '%s\n' "$1" | jq -r "$2"; }
