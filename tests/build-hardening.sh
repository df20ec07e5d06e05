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
t_done
