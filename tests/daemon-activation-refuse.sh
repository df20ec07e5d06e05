#!/bin/bash
# Socket activation (issue 13): a passed socket that is not the AF_UNIX
# stream socket listening at listen.path is refused with a clear error and
# exit status 1, before anything is bound, installed or forked: a socket at
# another path, one bound but not listening, a datagram socket at the right
# path, a UDP socket, a plain file, two sockets. A LISTEN_PID of another
# process is not ours: the daemon binds its own socket.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_root
t_require_cmd python3

t_tmpdir
d=$T_TMP
t_proxy_config "$d" request '[{"name":"all","match":{},"action":"store"}]'

# activate KIND [PID]: runs the daemon with fd 3 as KIND says and LISTEN_* set, like a service manager.
activate() {
	timeout 20 python3 - "$1" "${2:-self}" "$d" "$T_PROXY" <<'PY'
import os, socket, sys
kind, pid, d, proxy = sys.argv[1:5]
path = d + "/kernel.sock"
n = 1
if kind == "other-path":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(d + "/other.sock"); s.listen(16)
elif kind == "not-listening":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(path)
elif kind == "datagram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path)
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
elif kind == "file":
    s = open(d + "/plain", "w")
elif kind in ("two", "good"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(path); s.listen(16)
    if kind == "two":
        t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        os.dup2(t.fileno(), 4); os.set_inheritable(4, True); n = 2
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid() if pid == "self" else 1)
os.environ["LISTEN_FDS"] = str(n)
os.execv(proxy, [proxy, "--config", d + "/config.json"])
PY
}

refused() { # refused KIND EXPECTED-MESSAGE
	rm -f "$d/kernel.sock" "$d/other.sock" "$d/plain"
	activate "$1" >"$d/$1.out" 2>"$d/$1.err"
	t_is "$?" 1 "$1: exit status 1"
	t_like "$(cat "$d/$1.err")" "socket activation: $2" "$1: says why"
	case $1 in
	other-path | udp | file) t_ok "$1: no socket of our own at listen.path" test ! -e "$d/kernel.sock" ;;
	esac
	t_ok "$1: nothing forked" test "$(grep -c 'keeper\|listening on' "$d/$1.err")" -eq 0
}

refused other-path "the passed socket is not bound to listen.path \\($d/other.sock; listen.path is $d/kernel.sock\\)"
refused not-listening "the passed socket is not listening"
refused datagram "the passed socket is not SOCK_STREAM"
refused udp "the passed socket is not AF_UNIX"
refused file "the passed fd is not a socket"
refused two "LISTEN_FDS passes more than one socket"

# Another process's LISTEN_PID: not for us. The daemon binds its own and serves.
rm -f "$d/kernel.sock"
activate good 1 >"$d/good.out" 2>"$d/good.err" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/good.err"
t_ok "LISTEN_PID of another process: the daemon serves" grep -q "listening on" "$d/good.err"
t_ok "... on a socket of its own, not the passed one" test "$(grep -c 'socket-activated' "$d/good.err")" -eq 0
t_done
