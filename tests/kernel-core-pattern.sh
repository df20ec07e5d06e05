#!/bin/bash
# core_pattern handling in kernel/: feature detection, install with the
# previous value kept, exact restore, and path validation that agrees with
# the kernel's own (the selftests' invalid patterns).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_core_pattern_save
t_tmpdir
d=$T_TMP
peer=$T_HELPERS/cdp-test-peer

modes=$("$peer" core-modes)
t_is "$(t_kv -t "$modes" socket)" 1 "core_modes lists socket"

# An unusual previous pattern (a pipe with arguments and spaces) must come back byte for byte.
odd='|/bin/false %P %u %g core dump'
t_core_pattern_set "$odd"
out=$("$peer" pattern-install "$d/kernel.sock" request)
t_is "$(printf '%s\n' "$out" | sed -n 's/^installed=//p')" "@@$d/kernel.sock" "request mode installs @@"
t_is "$(printf '%s\n' "$out" | sed -n 's/^previous=//p')" "$odd" "previous pattern returned intact"
t_is "$(printf '%s\n' "$out" | sed -n 's/^restored=//p')" "$odd" "restore gives back exactly the previous pattern"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$odd" "the kernel holds the previous pattern again"

out=$("$peer" pattern-install "$d/kernel.sock" plain)
t_is "$(t_kv -t "$out" installed)" "@$d/kernel.sock" "plain mode installs @"
t_is "$(t_kv -t "$out" request)" 0 "plain mode reports plain"

# The kernel resolves the path without following symlinks: refuse one up front.
mkdir "$d/real" && ln -s real "$d/link"
t_core_pattern_set core
out=$("$peer" pattern-install "$d/link/kernel.sock" request 2>/dev/null)
t_is "$(t_kv -t "$out" error)" -40 "a symlinked directory is refused (ELOOP)"
t_is "$(cat /proc/sys/kernel/core_pattern)" core "a refused install leaves the pattern alone"

# kernel/ and the kernel agree on the selftests' invalid patterns and on a valid one.
for p in "@ /tmp/coredump.socket" "@/tmp/../coredump.socket" "@../coredump.socket" \
	"@/tmp/coredump.socket/.." "@.." "@@ /tmp/coredump.socket" "@@/tmp/../coredump.socket" \
	"@@../coredump.socket" "@@/tmp/coredump.socket/.." "@@.." "@@@/tmp/coredump.socket"; do
	t_is "$("$peer" pattern-check "$p")" valid=0 "kernel/ refuses '$p'"
	if printf '%s' "$p" >/proc/sys/kernel/core_pattern 2>/dev/null; then kernel=accepted; else kernel=refused; fi
	t_is "$kernel" refused "the kernel refuses '$p' too"
done
t_is "$("$peer" pattern-check "@@$d/kernel.sock")" valid=1 "kernel/ accepts a valid @@ pattern"
t_ok "the kernel accepts it too" t_core_pattern_set "@@$d/kernel.sock"
t_done
