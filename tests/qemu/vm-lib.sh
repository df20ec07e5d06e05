# shellcheck shell=sh
# The scenarios' library inside the test VM (busybox sh; /cdp/lib.sh there).
# A scenario sources it, asserts, and ends with done_testing:
#
#   . /cdp/lib.sh
#   is "$(uname -r)" "$CDP_KERNEL" "the expected kernel"
#   done_testing
#
# - TAP: ok NAME CMD..., is GOT WANT NAME, like GOT ERE NAME, skip NAME WHY,
#   diag TEXT, done_testing. ok, is and like return 1 on a failure (for
#   "|| diag ..."). Each result is one console line with the
#   prefix the host looks for ("CDP-TAP: ok 3 - name"); the host numbers
#   them into its own TAP stream and fails the run if the plan is missing.
# - waiting: wait_for SECONDS CMD..., wait_line FILE ERE [SECONDS]
# - data: json JSON FILTER (jq -r), kv TEXT KEY (key=value output of the
#   test helpers), is_elf FILE, hex64, uuid
# - simulated containers: container_start CGROUP-REL, container_run CMD...
#   (cgroup2 at /sys/fs/cgroup; namespaces from busybox unshare)
# - background processes: bg LOG CMD... (killed when the scenario exits),
#   bg_stop PID (SIGTERM, wait, its exit status)
#
# Nothing here needs to restore machine state: the VM is powered off after
# each scenario, and every scenario gets a fresh boot.

CDP_TAP_N=0
CDP_TAP_FAILED=0
CDP_BG_PIDS=""

_tap() { printf 'CDP-TAP: %s\n' "$*"; }

diag() { # diag TEXT: every line a TAP comment
	printf '%s\n' "$*" | while IFS= read -r _l; do _tap "# $_l"; done
}

_result() { # _result STATUS NAME: returns 0 for a pass, 1 for a failure
	CDP_TAP_N=$((CDP_TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		_tap "ok $CDP_TAP_N - $2"
		return 0
	fi
	CDP_TAP_FAILED=$((CDP_TAP_FAILED + 1))
	_tap "not ok $CDP_TAP_N - $2"
	return 1
}

ok() { # ok NAME CMD...: passes when CMD succeeds; its stdout is dropped (the console is for results)
	_name=$1
	shift
	"$@" >/dev/null
	_result $? "$_name"
}

is() { # is GOT WANT NAME
	[ "$1" = "$2" ] && _result 0 "$3" && return 0
	_result 1 "$3"
	diag "got '$1', want '$2'"
	return 1
}

like() { # like GOT ERE NAME: some line of GOT matches
	printf '%s\n' "$1" | grep -Eq -- "$2" && _result 0 "$3" && return 0
	_result 1 "$3"
	diag "got '$1', want a match of '$2'"
	return 1
}

skip() { # skip NAME WHY
	CDP_TAP_N=$((CDP_TAP_N + 1))
	_tap "ok $CDP_TAP_N - $1 # SKIP $2"
}

done_testing() {
	_tap "1..$CDP_TAP_N"
	[ "$CDP_TAP_FAILED" -eq 0 ]
	exit $?
}

# ---- waiting -------------------------------------------------------------

wait_for() { # wait_for SECONDS CMD...: polls CMD every 0.1 s
	_deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$_deadline" ] && return 1
		sleep 0.1
	done
}

# wait_line FILE ERE [SECONDS]: waits (default 10 s) until a line of FILE
# matches; prints the last such line.
wait_line() {
	wait_for "${3:-10}" grep -Eq -- "$2" "$1" 2>/dev/null || return 1
	grep -E -- "$2" "$1" | tail -n 1
}

# ---- data ------------------------------------------------------------------

json() { printf '%s\n' "$1" | jq -r "$2"; } # json JSON FILTER: one value, raw

kv() { # kv TEXT KEY: the value of KEY= in the key=value output of a test helper
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

hex64() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
uuid() { cat /proc/sys/kernel/random/uuid; }

# ---- background processes ----------------------------------------------------

# bg LOG CMD...: starts CMD with its output in LOG; sets BG_PID. Killed when
# the scenario exits, so the end marker and the plan are not held up.
bg() {
	_log=$1
	shift
	"$@" </dev/null >>"$_log" 2>&1 &
	BG_PID=$!
	CDP_BG_PIDS="$CDP_BG_PIDS $BG_PID"
}

# bg_stop PID: SIGTERM, then waits; returns the process's exit status.
bg_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

_cleanup() {
	for _p in $CDP_BG_PIDS; do kill -KILL "$_p" 2>/dev/null; done
}
trap _cleanup EXIT

# ---- simulated containers ------------------------------------------------

# container_start CGROUP-REL [UNSHARE-FLAGS...]: a holder process in new
# network, pid and mount namespaces (with its own /proc; other flags for
# other namespaces, e.g. "-p -m -f --mount-proc" for the host's network)
# inside the cgroup2 directory /sys/fs/cgroup/CGROUP-REL, named the way a
# runtime names it (e.g. "system.slice/docker-$(hex64).scope"). Sets CT_PID
# (its pid here) and CT_CG.
container_start() {
	CT_CG=/sys/fs/cgroup/$1
	CT_PID=""
	shift
	[ $# -gt 0 ] || set -- -n -p -m -f --mount-proc
	mkdir -p "$CT_CG" || return 1
	bg /dev/null unshare "$@" \
		sh -c 'echo 0 > "$1/cgroup.procs" && exec sleep 1000000' holder "$CT_CG"
	# The holder is the cgroup's only process, and cgroup.procs shows pids
	# as this namespace sees them: no need to find it among unshare's children.
	wait_for 10 grep -q . "$CT_CG/cgroup.procs" || return 1
	CT_PID=$(head -n 1 "$CT_CG/cgroup.procs")
}

# container_run CMD...: runs CMD in the foreground inside the last container
# (its namespaces and cgroup). CMD's parent there is nsenter, which must not
# see a crash: crash from a child that CMD reaps (cdp-crasher does).
container_run() {
	nsenter -t "$CT_PID" -n -p -m -- sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' \
		run "$CT_CG" "$@"
}
