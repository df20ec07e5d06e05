#!/bin/bash
# Every scenario of tests/qemu/scenarios/ on Debian 12's own kernel, 6.1, under qemu
# (see tests/qemu/README.md); skipped when qemu or the kernel cannot be had.
. "${top_srcdir:-$(dirname "$0")/..}/tests/qemu/lib.sh" || exit 99
q_main 6.1
