#!/bin/bash
# "@" coredump sockets: real crashes (single- and multi-threaded) stream an
# ELF core; the pidfd says PIDFD_COREDUMPED; core_pipe_limit decides whether
# the task is still there to be looked at.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_core_pattern_save
t_tmpdir
d=$T_TMP

t_sysctl_set /proc/sys/kernel/core_pipe_limit 0
t_ok "test server listens" t_test_server "$d" --mode plain --count 2
t_core_pattern_set "@$d/kernel.sock"

out=$("$T_HELPERS/cdp-crasher" --name plain-one --size 2097152)
t_wait_for 10 test -e "$d/0.info"
t_is "$(t_kv -t "$out" signal)" 11 "single-threaded: killed by SIGSEGV"
t_is "$(t_kv -t "$out" coredump)" 1 "single-threaded: WCOREDUMP is set"
t_is "$(t_kv "$d/0.info" kind)" coredump "single-threaded: server sees a coredump"
t_is "$(($(t_kv "$d/0.info" coredump_mask) & 1))" 1 "single-threaded: pidfd shows PIDFD_COREDUMPED"
t_is "$(t_kv "$d/0.info" tgid)" "$(t_kv -t "$out" pid)" "single-threaded: peer pidfd is the crashing task"
t_ok "single-threaded: stream is an ELF core" t_is_elf "$d/0.core"
t_ok "single-threaded: core holds the 2 MiB touched" test "$(t_kv "$d/0.info" bytes)" -ge 2097152
t_is "$(($(t_kv -t "$out" coredump_mask) & 1))" 1 "single-threaded: PIDFD_COREDUMPED after reaping"

# core_pipe_limit > 0 makes "@" hold the task (COREDUMP_WAIT), so /proc shows the signal.
t_sysctl_set /proc/sys/kernel/core_pipe_limit 1
out=$("$T_HELPERS/cdp-crasher" --name plain-threads --threads 16 --signal abrt)
t_wait_for 10 test -e "$d/1.info"
t_is "$(t_kv -t "$out" signal)" 6 "multi-threaded: killed by SIGABRT"
t_is "$(t_kv -t "$out" coredump)" 1 "multi-threaded: WCOREDUMP is set"
t_is "$(t_kv "$d/1.info" signal)" 6 "multi-threaded: held task shows the signal in /proc"
t_ok "multi-threaded: stream is an ELF core" t_is_elf "$d/1.core"
t_done
