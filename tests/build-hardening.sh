#!/bin/bash
# The installed programs are built hardened by default (configure.ac): full
# RELRO (GNU_RELRO plus BIND_NOW), position-independent, the stack
# protector, and FORTIFY_SOURCE's checked libc calls (not in sanitizer
# builds, where ASan's own checks take their place). The test crasher is
# built without them and still really crashes: every crash test asserts the
# signal it died of.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_cmd readelf

sanitizers=0
grep -q '^#define CDP_SANITIZERS 1' "$top_builddir/config.h" && sanitizers=1
grep -q '^CDP_HARDEN_LDFLAGS = *$' "$top_builddir/Makefile" &&
	t_skip_all "built without hardening (--disable-hardening, or a toolchain without the flags)"

for prog in "$T_PROXY" "$T_COLLECTOR"; do
	name=${prog##*/}
	t_ok "$name: built" test -x "$prog"
	t_like "$(readelf -hW "$prog")" "Type: +DYN" "$name: position-independent (ELF type DYN)"
	t_like "$(readelf -dW "$prog")" "FLAGS_1\) +Flags:.* PIE" "$name: marked PIE"
	t_like "$(readelf -lW "$prog")" "GNU_RELRO" "$name: has a RELRO segment"
	t_like "$(readelf -dW "$prog")" "(BIND_NOW|FLAGS_1\) +Flags: NOW)" "$name: binds every symbol at start (full RELRO)"
	syms=$(readelf --dyn-syms -W "$prog")
	t_like "$syms" "__stack_chk_fail" "$name: stack protector"
	if [ "$sanitizers" = 0 ]; then
		t_like "$syms" "__[a-z]+_chk@" "$name: FORTIFY_SOURCE's checked calls"
	fi
done

# --enable-static-pipe-helper (tests/run, the image): the helper the kernel runs from a node's root
# needs no library of the node's, and keeps ASLR and RELRO.
if grep -q '^CDP_PIPE_LDFLAGS = *-static' "$top_builddir/Makefile"; then
	helper=$top_builddir/coredump-proxy-pipe
	t_ok "coredump-proxy-pipe: no program interpreter (statically linked)" \
		bash -c "! readelf -lW '$helper' | grep -q INTERP"
	t_is "$(readelf -dW "$helper" | grep -c NEEDED)" 0 "coredump-proxy-pipe: needs no shared library"
	if grep -q '^CDP_PIPE_LDFLAGS = *-static-pie' "$top_builddir/Makefile"; then
		t_like "$(readelf -hW "$helper")" "Type: +DYN" "coredump-proxy-pipe: static PIE (ELF type DYN)"
	fi
	t_like "$(readelf -lW "$helper")" "GNU_RELRO" "coredump-proxy-pipe: has a RELRO segment"
	if [ "$(id -u)" = 0 ]; then
		t_tmpdir
		install -m 0755 "$helper" "$T_TMP/coredump-proxy-pipe"
		chroot "$T_TMP" /coredump-proxy-pipe </dev/null >/dev/null 2>&1
		r=$?
		t_ok "coredump-proxy-pipe: runs in an empty root (exit $r, not 125-127)" test "$r" -lt 125
	else
		t_diag "coredump-proxy-pipe: not run in an empty root (chroot needs root)"
	fi
else
	t_diag "coredump-proxy-pipe: built shared (no --enable-static-pipe-helper)"
fi
t_done
