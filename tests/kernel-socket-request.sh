#!/bin/bash
# "@@" coredump sockets: the request, the ack and what each answer does to the
# crashing task (WCOREDUMP) and to the stream.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_request_mode
t_core_pattern_save

run_case() { # run_case ACTION CRASHER-ARGS...: sets out and info
	local action=$1
	shift
	t_tmpdir
	d=$T_TMP
	t_test_server "$d" --mode request --action "$action" --count 1 || return 1
	t_core_pattern_set "@@$d/kernel.sock"
	out=$("$T_HELPERS/cdp-crasher" "$@")
	t_wait_for 10 test -e "$d/0.info"
	info=$d/0.info
}

run_case kernel --name req-kernel --threads 8 --size 1048576
t_is "$(t_kv "$info" req_size)" 16 "kernel: request is 16 bytes on this kernel"
t_is "$(t_kv "$info" req_valid)" 0 "kernel: request validates"
t_is "$(( $(t_kv "$info" req_mask) & 0xF ))" 15 "kernel: KERNEL|USERSPACE|REJECT|WAIT offered"
t_is "$(t_kv "$info" mark_name)" reqack "kernel: ack accepted (REQACK)"
t_is "$(t_kv "$info" signal)" 11 "kernel: held task shows SIGSEGV in /proc"
t_ok "kernel: ELF core follows the mark" t_is_elf "$d/0.core"
t_ok "kernel: core holds the touched MiB" test "$(t_kv "$info" bytes)" -ge 1048576
t_is "$(t_kv -t "$out" coredump)" 1 "kernel: WCOREDUMP is set"

run_case reject --name req-reject
t_is "$(t_kv "$info" mark_name)" reqack "reject: ack accepted"
t_is "$(t_kv "$info" bytes)" 0 "reject: no byte written"
t_is "$(t_kv -t "$out" signal)" 11 "reject: task still dies of SIGSEGV"
t_is "$(t_kv -t "$out" coredump)" 0 "reject: no core in the wait status"
t_is "$(( $(t_kv -t "$out" coredump_mask) & 1 ))" 1 "reject: pidfd still shows PIDFD_COREDUMPED"

run_case userspace --name req-userspace --signal abrt
t_is "$(t_kv "$info" bytes)" 0 "userspace: kernel writes nothing"
t_is "$(t_kv -t "$out" coredump)" 1 "userspace: counted as dumped"
t_is "$(t_kv "$info" signal)" 6 "userspace: held task shows SIGABRT"
t_done
