#!/bin/bash
# Replays one fuzz target's corpus as a TAP test:
#
#   tests/fuzz-replay.sh TARGET        (e.g. fuzz-config)
#
# runs tests/TARGET from the build tree on every file in tests/fuzz/TARGET/ in
# the source tree. `make check` calls it once per target through the wrapper
# tests/fuzz/TARGET.sh, so that each target is its own test. A target built
# without libFuzzer (the default and --enable-sanitizers) has tests/fuzz-main.c
# as its main, which prints the TAP itself; a libFuzzer build (--enable-fuzzing)
# runs the same files with libFuzzer's own driver, whose log is turned into TAP
# here. Either way a crash or a sanitizer report fails the test and names the
# input.
set -uo pipefail

target=${1:?usage: tests/fuzz-replay.sh TARGET}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
bin=$(cd "${top_builddir:-.}" && pwd)/tests/$target

if [ ! -x "$bin" ]; then
	echo "Bail out! $bin is not built"
	exit 1
fi
# From the corpora's directory, so that each result names its input as "TARGET/FILE".
if ! cd "$top_srcdir/tests/fuzz" || [ ! -d "$target" ]; then
	echo "Bail out! no corpus at $top_srcdir/tests/fuzz/$target"
	exit 1
fi

# libFuzzer's driver is linked in only by --enable-fuzzing.
if ! grep -qaF 'LLVMFuzzerRunDriver' "$bin"; then
	exec "$bin" "$target"
fi

shopt -s nullglob
files=()
for f in "$target"/*; do
	[ -f "$f" ] && files+=("$f")
done
if [ "${#files[@]}" -eq 0 ]; then
	echo "Bail out! tests/fuzz/$target is empty"
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Given only files (no directory), libFuzzer runs each once and does not fuzz.
"$bin" "${files[@]}" 2>"$log"
rc=$?

n=0
while IFS= read -r line; do
	case "$line" in
	"Executed "*" in "*" ms")
		n=$((n + 1))
		f=${line#Executed }
		echo "ok $n - ${f% in * ms}"
		;;
	esac
done <"$log"
if [ "$rc" -ne 0 ]; then
	n=$((n + 1))
	last=$(grep '^Running: ' "$log" | tail -n 1)
	echo "not ok $n - ${last#Running: } # exit status $rc"
	sed 's/^/# /' "$log"
fi
echo "1..$n"
[ "$rc" -eq 0 ]
