#!/bin/bash
# A process that merely connects to the coredump socket is told apart from a
# crash: its pidfd does not show PIDFD_COREDUMPED.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_tmpdir
d=$T_TMP

t_ok "test server listens" t_test_server "$d" --mode request --count 1
"$T_HELPERS/cdp-test-peer" connect "$d/kernel.sock" 3000 >"$d/peer.out" &
peer=$!
t_track_pid "$peer"
t_wait_for 10 test -e "$d/0.info"
t_is "$(t_kv "$d/0.info" kind)" not-a-coredump "spoofed connection is not a coredump"
t_is "$(( $(t_kv "$d/0.info" coredump_mask) & 1 ))" 0 "pidfd of the spoofer lacks PIDFD_COREDUMPED"
t_is "$(t_kv "$d/0.info" tgid)" "$peer" "peer pidfd names the spoofing process"
t_ok "no request was read from it" bash -c "! grep -q '^req_size=' '$d/0.info'"
t_done
