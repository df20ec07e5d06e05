#!/bin/bash
# Malformed acks: the kernel answers each with its own mark, kernel/ maps each
# mark to its own errno, and the task gets no core.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_core_pattern_save

mark_case() { # mark_case NAME WANT-MARK WANT-ERRNO SERVER-ARGS...
	local name=$1 want=$2 want_errno=$3
	shift 3
	t_tmpdir
	local d=$T_TMP out
	t_test_server "$d" --mode request --count 1 "$@"
	t_core_pattern_set "@@$d/kernel.sock"
	out=$("$T_HELPERS/cdp-crasher" --name "mark-$name")
	t_wait_for 10 test -e "$d/0.info"
	t_is "$(t_kv "$d/0.info" mark_name)" "$want" "$name: kernel answers $want"
	t_is "$(t_kv "$d/0.info" mark_errno)" "$want_errno" "$name: mapped to errno $want_errno"
	t_is "$(t_kv -t "$out" coredump)" 0 "$name: no core"
}

mark_case small minsize -90 --ack-size 8
mark_case large maxsize -7 --ack-size 4112
mark_case unknown-flag unsupported -95 --ack-mask 0x8000000000000000
mark_case conflicting conflicting -22 --ack-mask 0xd
t_done
