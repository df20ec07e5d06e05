# shellcheck shell=bash
# Host side of the qemu tests (sourced, bash, after tests/lib.sh): boots Debian's
# own older kernels under qemu (TCG) with the built programs in an initramfs, runs
# one scenario (tests/qemu/scenarios/*.sh) per boot and turns the result lines
# the scenario prints on the console into TAP here.
#
# - q_fetch_kernel SERIES: the newest Debian package of that series, downloaded
#   once into a cache (never installed)
# - q_build_initramfs OUT SCENARIO...: busybox, the programs, their libraries,
#   the test helpers, jq, /init and the scenarios
# - q_boot KERNEL-DIR INITRD SCENARIO: one boot with a hard timeout; TAP out
# - q_main SERIES [SCENARIO...]: all of it, what tests/qemu-*.sh and
#   tests/qemu/run call

. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh" || exit 99

Q_DIR=$top_srcdir/tests/qemu

# The programs under test, from the build directory. Optional ones are copied
# when the build has them (helpers that later work adds).
Q_PROGRAMS=(coredump-proxy coredump-collector)
Q_PROGRAMS_OPTIONAL=(coredump-proxy-pipe)
# Host tools the scenarios use that busybox lacks.
Q_HOST_TOOLS=(jq)

# One boot: boot (~3 s) plus the scenario. Generous, because two VMs share
# two cores under `make check -j2`; a hung VM is killed at this bound.
Q_TIMEOUT=${CDP_QEMU_TIMEOUT:-180}
Q_VERBOSE=${CDP_QEMU_VERBOSE:-0}

# q_series_regex SERIES: the package names of a kernel series, for apt-cache.
# The cloud flavour has everything built in that the tests need (serial
# console, cgroup2, namespaces, proc connector, seccomp), so no modules.
q_series_regex() {
	case $1 in
	6.1) echo '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;   # Debian 12
	6.12) echo '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' ;; # bookworm-backports (Debian 13's kernel)
	*) return 1 ;;
	esac
}

# Kernels are cached outside the build tree: CI clones afresh for each run
# and tests/run builds twice (build/, build-san/); all of them share one
# download. Keyed by package and version, so a newer package is fetched once
# apt knows it.
q_cache_dir() {
	if [ -n "${CDP_QEMU_CACHE:-}" ]; then
		echo "$CDP_QEMU_CACHE"
	elif [ "$(id -u)" -eq 0 ]; then
		echo /var/cache/coredump-proxy-tests
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/coredump-proxy-tests"
	fi
}

# q_newest REGEX: "PACKAGE VERSION" of the newest candidate apt knows.
q_newest() {
	local p v best_p="" best_v=""
	local -a names
	mapfile -t names < <(apt-cache search --names-only "$1" 2>/dev/null | awk '{ print $1 }')
	[ ${#names[@]} -gt 0 ] || return 1
	while read -r p v; do
		if [ -z "$best_v" ] || dpkg --compare-versions "$v" gt "$best_v"; then
			best_p=$p best_v=$v
		fi
	done < <(apt-cache show --no-all-versions "${names[@]}" 2>/dev/null |
		awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }')
	[ -n "$best_p" ] || return 1
	echo "$best_p $best_v"
}

# q_newest_cached CACHE REGEX: the newest kernel directory of that series
# already in the cache (used when apt cannot tell or fetch a newer one).
q_newest_cached() {
	local d name best="" best_v=""
	for d in "$1"/*_*/; do
		d=${d%/}
		[ -s "$d/vmlinuz" ] || continue
		name=${d##*/}
		[[ ${name%%_*} =~ $2 ]] || continue
		if [ -z "$best_v" ] || dpkg --compare-versions "${name#*_}" gt "$best_v"; then
			best=$d best_v=${name#*_}
		fi
	done
	[ -n "$best" ] && echo "$best"
}

# q_download CACHE PACKAGE VERSION REGEX: CACHE/PACKAGE_VERSION/{vmlinuz,
# config,release,package}; older kernels of the series (REGEX) are removed.
# Runs in a subshell holding the cache's lock, so that parallel tests never
# unpack into the same place and no later process inherits the lock's fd.
q_download() (
	cache=$1 pkg=$2 ver=$3 re=$4
	dir=$cache/${pkg}_$ver
	exec 9>"$cache/.lock"
	flock 9
	[ -s "$dir/vmlinuz" ] && exit 0
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	# The sandbox user _apt cannot write into a root-only temp dir; as a
	# plain user apt does not switch users anyway.
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver") >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; exit 1; }
	# Unpacked, never installed: only the kernel image and its config are
	# kept (everything the tests need is built in; the modules are not).
	dpkg -x "$tmp"/*.deb "$tmp/root" || exit 1
	mkdir "$tmp/kernel"
	set -- "$tmp"/root/boot/vmlinuz-*
	[ -f "$1" ] || { echo "no vmlinuz in $pkg" >&2; exit 1; }
	mv "$1" "$tmp/kernel/vmlinuz"
	echo "${1##*/vmlinuz-}" >"$tmp/kernel/release"
	mv "$tmp"/root/boot/config-* "$tmp/kernel/config" 2>/dev/null
	echo "$pkg $ver" >"$tmp/kernel/package"
	mv "$tmp/kernel" "$dir" || exit 1
	for old in "$cache"/*_*/; do
		old=${old%/}
		name=${old##*/}
		[ "$old" != "$dir" ] && [[ ${name%%_*} =~ $re ]] && rm -rf "$old"
	done
	exit 0
)

# q_apt_update CACHE: refreshes apt's package lists (root only), under the
# cache's lock: the tests of two kernels may want it at the same time, and
# a second apt-get update would fail on apt's own lock instead of waiting.
q_apt_update() (
	[ "$(id -u)" -eq 0 ] || exit 1
	exec 9>"$1/.lock"
	flock 9
	apt-get update -qq >/dev/null 2>&1
)

# q_fetch_kernel SERIES: sets Q_KERNEL (a directory with vmlinuz, config,
# release and package); on failure returns 1 with the reason in Q_WHY.
q_fetch_kernel() {
	local series=$1 re cache newest pkg ver err
	Q_KERNEL="" Q_WHY=""
	re=$(q_series_regex "$series") || { Q_WHY="unknown kernel series '$series' (known: 6.1, 6.12)"; return 1; }
	cache=$(q_cache_dir)
	mkdir -p "$cache" || { Q_WHY="cannot create the kernel cache $cache"; return 1; }
	t_require_cmd apt-cache apt-get dpkg flock
	t_tmpdir || return 1
	err=$T_TMP/fetch-error

	newest=$(q_newest "$re")
	if [ -z "$newest" ] && q_apt_update "$cache"; then
		# A fresh machine may have no package lists yet.
		newest=$(q_newest "$re")
	fi
	if [ -n "$newest" ]; then
		read -r pkg ver <<<"$newest"
		if q_download "$cache" "$pkg" "$ver" "$re" 2>"$err"; then
			Q_KERNEL=$cache/${pkg}_$ver
		elif q_apt_update "$cache" &&
			newest=$(q_newest "$re") && read -r pkg ver <<<"$newest" &&
			q_download "$cache" "$pkg" "$ver" "$re" 2>"$err"; then
			# Stale package lists name a version the archive no longer has.
			Q_KERNEL=$cache/${pkg}_$ver
		else
			Q_WHY="apt-get download $pkg=$ver failed: $(tail -n 1 "$err")"
		fi
	else
		Q_WHY="apt knows no package matching $re"
	fi
	if [ -z "$Q_KERNEL" ]; then
		# Offline, or apt cannot tell: an already cached kernel still serves.
		Q_KERNEL=$(q_newest_cached "$cache" "$re") || return 1
	fi
	return 0
}

# ---- the initramfs ---------------------------------------------------------

# q_copy_elf STAGE SRC DEST: copies a program to STAGE/DEST and every shared
# library ldd lists for it (the dynamic loader too) to the same path as on
# the host; the VM's loader finds them in its built-in default directories.
q_copy_elf() {
	local stage=$1 src=$2 dest=$3 out a b c lib
	mkdir -p "$stage/${dest%/*}" && cp -L "$src" "$stage/$dest" || return 1
	# A static program (busybox-static): ldd says so and fails; nothing to copy.
	out=$(ldd "$src" 2>&1) || return 0
	while read -r a b c _; do
		if [ "$b" = "=>" ] && [ "$c" = not ]; then
			echo "q_copy_elf: $src needs $a, which is not found" >&2
			return 1
		fi
		if [ "$b" = "=>" ] && [ "${c#/}" != "$c" ]; then
			lib=$c
		elif [ "${a#/}" != "$a" ]; then
			lib=$a
		else
			continue # the vDSO
		fi
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage${lib%/*}" && cp -L "$lib" "$stage$lib" || return 1
	done <<<"$out"
}

# q_build_initramfs OUT SCENARIO...: a gzip'd newc cpio; returns 1 with Q_WHY.
q_build_initramfs() {
	local out=$1 stage p f
	shift
	Q_WHY=""
	t_tmpdir || return 1
	stage=$T_TMP/root
	mkdir -p "$stage"/{bin,usr/bin,etc,proc,sys,dev,run,tmp,root,var/lib,var/log,cdp/scenarios} || return 1

	f=$(command -v busybox)
	q_copy_elf "$stage" "$f" bin/busybox || { Q_WHY="cannot copy $f"; return 1; }
	for p in "${Q_PROGRAMS[@]}"; do
		[ -x "$top_builddir/$p" ] || { Q_WHY="$top_builddir/$p is not built"; return 1; }
		q_copy_elf "$stage" "$top_builddir/$p" "usr/bin/$p" || { Q_WHY="cannot copy $p"; return 1; }
	done
	for p in "${Q_PROGRAMS_OPTIONAL[@]}"; do
		[ -x "$top_builddir/$p" ] || continue
		q_copy_elf "$stage" "$top_builddir/$p" "usr/bin/$p" || { Q_WHY="cannot copy $p"; return 1; }
	done
	for f in "$T_HELPERS"/cdp-*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then
			continue # objects and dirstamps of the helpers' build
		fi
		q_copy_elf "$stage" "$f" "usr/bin/${f##*/}" || { Q_WHY="cannot copy $f"; return 1; }
	done
	[ -x "$stage/usr/bin/cdp-crasher" ] || { Q_WHY="$T_HELPERS/cdp-crasher is not built (make check builds it)"; return 1; }
	for p in "${Q_HOST_TOOLS[@]}"; do
		f=$(command -v "$p") || { Q_WHY="no $p on the host"; return 1; }
		q_copy_elf "$stage" "$f" "usr/bin/$p" || { Q_WHY="cannot copy $f"; return 1; }
	done

	install -m 0755 "$Q_DIR/init" "$stage/init" &&
		install -m 0644 "$Q_DIR/vm-lib.sh" "$stage/cdp/lib.sh" || return 1
	for f in "$@"; do
		install -m 0755 "$f" "$stage/cdp/scenarios/${f##*/}" || { Q_WHY="cannot copy $f"; return 1; }
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

	# Owned by root inside the VM whoever builds it.
	(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out" ||
		{ Q_WHY="cpio failed"; return 1; }
	rm -rf "$stage"
}

# ---- one boot ----------------------------------------------------------------

# q_untrack PID: a process we have reaped is no longer ours to kill at exit.
q_untrack() {
	local i
	for i in "${!T_PIDS[@]}"; do
		[ "${T_PIDS[i]}" = "$1" ] && unset 'T_PIDS[i]'
	done
	T_PIDS=("${T_PIDS[@]}")
}

q_result() { # q_result PASSED NAME: one TAP line on lib.sh's counters
	T_COUNT=$((T_COUNT + 1))
	if [ "$1" = 1 ]; then
		echo "ok $T_COUNT - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_COUNT - $2"
	fi
}

# q_boot KERNEL-DIR INITRD SCENARIO-PATH LOGDIR: boots, then reports every
# result line of the scenario and one line for the run itself (it ended,
# planned and numbered its results correctly, printed nothing garbled).
q_boot() {
	local kdir=$1 initrd=$2 scenario=${3##*/} logdir=$4 release tag pid rc start
	local log=$logdir/${scenario%.sh}.console err=$logdir/${scenario%.sh}.qemu-err
	release=$(cat "$kdir/release")
	tag="$release ${scenario%.sh}"
	start=$EPOCHREALTIME

	# No network device: the VM needs none and must reach nothing.
	qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic -no-reboot -nic none \
		-kernel "$kdir/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 cdp.scenario=$scenario cdp.kernel=$release" \
		</dev/null >"$log" 2>"$err" &
	pid=$!
	t_track_pid "$pid"
	local deadline=$((SECONDS + Q_TIMEOUT)) timed_out=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null
			timed_out=1
			break
		fi
		sleep 0.2
	done
	wait "$pid" 2>/dev/null # no job notice for a killed qemu: the reason says it
	rc=$?
	q_untrack "$pid"

	# The console has \r\n line ends; a kernel message may precede the prefix
	# on a line, so the prefix is looked for anywhere in it.
	local line body plan="" n=0 garbled=0 end="" why=""
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		*CDP-TAP:\ *) body=${line#*CDP-TAP: } ;;
		*CDP-END:\ rc=*) end=${line#*CDP-END: rc=}; continue ;;
		*) continue ;;
		esac
		if [[ $body =~ ^(not\ )?ok\ ([0-9]+)(\ -\ (.*))?$ ]]; then
			n=$((n + 1))
			[ "${BASH_REMATCH[2]}" = "$n" ] || garbled=$((garbled + 1))
			q_result "$([ -z "${BASH_REMATCH[1]}" ] && echo 1)" "$tag: ${BASH_REMATCH[4]}"
		elif [[ $body =~ ^1\.\.([0-9]+)$ ]] && [ -z "$plan" ]; then
			plan=${BASH_REMATCH[1]}
		elif [[ $body =~ ^#\ ?(.*)$ ]]; then
			t_diag "$tag: ${BASH_REMATCH[1]}"
		else
			garbled=$((garbled + 1))
			t_diag "$tag: garbled result line: $body"
		fi
	done <"$log"

	if [ "$timed_out" = 1 ]; then
		why="timed out after ${Q_TIMEOUT}s (CDP_QEMU_TIMEOUT); qemu killed"
	elif grep -q 'Kernel panic' "$log"; then
		why=$(grep -m 1 -o 'Kernel panic.*' "$log" | tr -d '\r')
	elif [ -z "$end" ]; then
		why="the scenario did not end (qemu exit $rc)"
	elif [ "$end" != 0 ]; then
		why="the scenario exited $end"
	elif [ "$garbled" -gt 0 ]; then
		why="$garbled garbled or misnumbered result lines"
	elif [ -z "$plan" ]; then
		why="no plan: the scenario must end with done_testing"
	elif [ "$plan" != "$n" ] || [ "$n" -eq 0 ]; then
		why="planned $plan results, printed $n"
	elif [ "$rc" -ne 0 ]; then
		why="qemu exited $rc"
	fi
	q_result "$([ -z "$why" ] && echo 1)" "$tag: ran to its end in $(t_elapsed "$start") s${why:+: $why}"
	if [ -n "$why" ] || [ "$Q_VERBOSE" = 1 ]; then
		t_diag "---- $tag: console (last 40 lines of $(wc -l <"$log"))"
		# Without the terminal resets SeaBIOS sends.
		tail -n 40 "$log" | tr -d '\r' | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/^/#   /'
		[ -s "$err" ] && { t_diag "---- qemu stderr"; sed 's/^/#   /' "$err"; }
	fi
	return 0
}

# q_scenario_path NAME: a path as given, else tests/qemu/NAME, else
# tests/qemu/scenarios/NAME[.sh].
q_scenario_path() {
	local s
	for s in "$1" "$Q_DIR/$1" "$Q_DIR/scenarios/$1" "$Q_DIR/scenarios/$1.sh"; do
		[ -f "$s" ] && { readlink -f "$s"; return 0; }
	done
	return 1
}

# q_main SERIES [SCENARIO...]: every scenario (default: all of
# tests/qemu/scenarios/) in its own boot of the newest kernel of SERIES.
q_main() {
	local series=$1 s
	local -a scenarios=()
	shift
	t_require_cmd qemu-system-x86_64 busybox cpio gzip ldd "${Q_HOST_TOOLS[@]}"
	for s in "$@"; do
		s=$(q_scenario_path "$s") || { echo "no scenario $s" >&2; exit 2; }
		scenarios+=("$s")
	done
	[ ${#scenarios[@]} -gt 0 ] || scenarios=("$Q_DIR"/scenarios/*.sh)

	q_fetch_kernel "$series" || t_skip_all "no $series kernel: $Q_WHY"
	t_diag "kernel $(cat "$Q_KERNEL/package") ($(cat "$Q_KERNEL/release")) from $Q_KERNEL"

	t_tmpdir || exit 99
	local work=$T_TMP
	if ! q_build_initramfs "$work/initrd.gz" "${scenarios[@]}"; then
		q_result 0 "initramfs built${Q_WHY:+: $Q_WHY}"
		t_done
	fi
	for s in "${scenarios[@]}"; do
		q_boot "$Q_KERNEL" "$work/initrd.gz" "$s" "$work"
	done
	t_done
}
