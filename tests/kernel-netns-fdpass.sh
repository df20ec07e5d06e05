#!/bin/bash
# Connect inside another network namespace through a pidfd and pass an fd
# with SCM_RIGHTS; the abstract name is invisible from the host namespace.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_root
t_tmpdir
d=$T_TMP
peer=$T_HELPERS/cdp-test-peer
name="@cdp-test-netns-$$"

t_ok "started a holder in a new network namespace" t_container_start - --net --fork
holder=$T_HOLDER
nsenter -t "$holder" -n -- "$peer" listen "$name" >"$d/listener.out" 2>&1 &
t_track_pid $!
t_wait_for 10 grep -q listening=1 "$d/listener.out"

echo "payload-$$" >"$d/file"
out=$("$peer" send-here "$name" "$d/file" 2>/dev/null)
t_is "$(t_kv -t "$out" error)" -111 "the name is not reachable from the host namespace"
t_is "$(readlink /proc/self/ns/net)" "$(readlink /proc/$$/ns/net)" "host namespace untouched"

out=$("$peer" send "$holder" "$name" "$d/file")
t_is "$(t_kv -t "$out" sent)" 1 "connected inside the holder's namespace and sent the fd"
t_wait_for 10 grep -q '^content=' "$d/listener.out"
t_is "$(t_kv "$d/listener.out" payload)" hello "listener got the message"
t_is "$(t_kv "$d/listener.out" n_fds)" 1 "listener got exactly one fd"
t_is "$(t_kv "$d/listener.out" fd_type)" file "the fd is the file"
t_is "$(t_kv "$d/listener.out" cloexec)" 1 "received fd is close-on-exec"
t_is "$(t_kv "$d/listener.out" content)" "payload-$$" "the file's content reads through the passed fd"
t_done
