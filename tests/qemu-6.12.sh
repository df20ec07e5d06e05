#!/bin/bash
# Every scenario of tests/qemu/scenarios/ on Debian's 6.12 (bookworm-backports,
# Debian 13's kernel) under qemu
# (see tests/qemu/README.md); skipped when qemu or the kernel cannot be had.
. "${top_srcdir:-$(dirname "$0")/..}/tests/qemu/lib.sh" || exit 99
q_main 6.12
