#!/bin/bash
# "action": "systemd": real crashes handed to Debian's own systemd-coredump
# (252, unpacked, never installed: its postinst rewrites core_pattern), run
# socket-activated as systemd would. On the host its storage gets the core
# under the crashing task's comm, uid and pid; in a container (a root of its
# own with systemd-coredump listening at /run/systemd/coredump) under the
# ids the container sees, and nothing of the host. Nothing listening, a
# listener that is not root's, or a path leading out of the container's
# root: the route's fallback keeps the dump, as for a forward.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter chroot zstd python3 setpriv
t_core_pattern_save
t_tmpdir
d=$T_TMP

# systemd-coredump from the archive, unpacked once per build tree.
sd=$top_builddir/tests/systemd-coredump
if [ ! -x "$sd/root/lib/systemd/systemd-coredump" ]; then
	mkdir -p "$sd" && (cd "$sd" && apt-get download systemd-coredump >/dev/null 2>&1 &&
		dpkg -x systemd-coredump_*.deb root) ||
		t_skip_all "systemd-coredump cannot be downloaded from the package archive here"
fi
SDCD=$sd/root/lib/systemd/systemd-coredump
SDACT=$(command -v systemd-socket-activate) || t_skip_all "systemd-socket-activate (package systemd) is missing"
[ -d /usr/lib/x86_64-linux-gnu/systemd ] || [ -d /usr/lib/systemd ] || t_skip_all "no libsystemd-shared here"

# xattr FILE NAME: what systemd-coredump attached to a core it kept.
xattr() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$1" "$2" 2>/dev/null; }

# ---- on the host -------------------------------------------------------------
# Its storage is our directory, bound over /var/lib/systemd/coredump in a mount namespace of its own.
# The mount point must exist; made (and removed at exit) only when the host has none.
if [ ! -d /var/lib/systemd/coredump ]; then
	mkdir -p /var/lib/systemd/coredump && t_at_exit "rmdir /var/lib/systemd/coredump"
fi
mkdir -p "$d/sd-host"
unshare -m --propagation private sh -c 'mount --bind "$1" /var/lib/systemd/coredump && exec "$2" --seqpacket -a -l "$3" "$4"' \
	sh "$d/sd-host" "$SDACT" "$d/sd.sock" "$SDCD" 2>"$d/sd-host.log" &
t_track_pid $!
t_ok "systemd-coredump listens (socket-activated)" t_wait_for 10 test -S "$d/sd.sock"

t_proxy_config "$d" request "[
  {\"name\":\"sd\",\"match\":{\"comm\":\"sd-host*\"},\"action\":\"systemd\",\"address\":\"$d/sd.sock\"},
  {\"name\":\"none\",\"match\":{\"comm\":\"sd-none\"},\"action\":\"systemd\",\"address\":\"$d/none.sock\"},
  {\"name\":\"nobody\",\"match\":{\"comm\":\"sd-nobody\"},\"action\":\"systemd\",\"address\":\"$d/nobody/sock\",\"fallback\":\"reject\"},
  {\"name\":\"inside\",\"match\":{\"comm\":\"sd-inside\"},\"action\":\"systemd\",\"where\":\"container\"},
  {\"name\":\"escape\",\"match\":{\"comm\":\"sd-escape\"},\"action\":\"systemd\",\"where\":\"container\",\"address\":\"/run/escape.sock\"},
  {\"name\":\"host\",\"match\":{},\"action\":\"store\"}]"
t_ok "daemon starts" t_proxy_start "$d"

out=$(bash -c 'ulimit -c unlimited; exec "$1" --name sd-host --size 200000' sh "$T_HELPERS/cdp-crasher")
pid=$(t_kv -t "$out" pid)
ev=$(t_event "$d" sd-host)
t_is "$(t_jq "$ev" .outcome)" delivered "host: delivered to systemd-coredump"
t_is "$(t_jq "$ev" .action)" systemd "host: action systemd"
t_is "$(t_jq "$ev" .reason)" route "host: reason route"
t_is "$(t_kv -t "$out" coredump)" 1 "host: the kernel wrote the core"
core=$(ls "$d/sd-host"/core.sd-host.0.*."$pid".*.zst 2>/dev/null | head -n 1)
t_ok "host: its storage has core.sd-host.0.<boot>.$pid.*.zst (comm, uid, pid of the task)" test -n "$core"
[ -n "$core" ] && zstd -q -d -c "$core" >"$d/host.core"
t_ok "host: the core is the task's ELF core" t_is_elf "$d/host.core"
t_ok "host: a core of the size it dumped" test "$(stat -c %s "$d/host.core")" -gt 200000
t_is "$(xattr "$core" user.coredump.pid)" "$pid" "host: its pid attribute"
t_is "$(xattr "$core" user.coredump.hostname)" "$(cat /proc/sys/kernel/hostname)" "host: the host's hostname"
t_is "$(ls "$d/store" 2>/dev/null | grep -c core)" 0 "host: nothing in the host store"

# Nothing listens: the fallback (store) keeps it.
out=$("$T_HELPERS/cdp-crasher" --name sd-none)
ev=$(t_event "$d" sd-none)
t_is "$(t_jq "$ev" .reason)" no-systemd-coredump "nothing listening: reason"
t_is "$(t_jq "$ev" .outcome)" stored "nothing listening: stored by the fallback"
t_ok "nothing listening: the whole core is in the store" t_is_elf "$d/store/$(t_jq "$ev" .id).core"

# A listener that is not root's gets nothing: fallback reject.
mkdir -p "$d/nobody" && chown 65534 "$d/nobody" && chmod o+x "$d"
t_as 65534 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[2], "w").write("ready\n")
while True:
    c, _ = s.accept()
    data = c.recv(4096)
    open(sys.argv[2], "a").write("got %d\n" % len(data))
' "$d/nobody/sock" "$d/nobody/log" &
t_track_pid $!
t_ok "a non-root listener is up" t_wait_for 10 grep -qs ready "$d/nobody/log"
out=$("$T_HELPERS/cdp-crasher" --name sd-nobody)
ev=$(t_event "$d" sd-nobody)
t_is "$(t_jq "$ev" .reason)" untrusted-systemd-coredump "non-root listener: reason"
t_is "$(t_jq "$ev" .outcome)" rejected "non-root listener: the route's fallback (reject)"
sleep 0.2
t_ok "non-root listener: it received no field" bash -c "! grep -q '^got [1-9]' '$d/nobody/log'"
t_is "$(t_kv -t "$out" coredump)" 0 "non-root listener: the kernel wrote nothing (request mode)"

# ---- in a container ------------------------------------------------------------
root=$d/root
mkdir -p "$root"/{usr,run/systemd,proc,build,sdcd,etc,tmp} "$root/var/lib/systemd/coredump"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
cp "$SDCD" "$root/sdcd/systemd-coredump"
# Followed from the host's root this would reach the host's systemd-coredump.
ln -s "$d/sd.sock" "$root/run/escape.sock"

t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"
holder=$T_HOLDER
nsenter -t "$holder" -m -p -- sh -c 'mount --bind /usr "$1/usr" && mount --bind "$2" "$1/build" && mount -t proc proc "$1/proc"' \
	sh "$root" "$top_builddir"
in_root() { t_container_run "$holder" "$cg" chroot "$root" "$@"; }

in_root /usr/bin/systemd-socket-activate --seqpacket -a -l /run/systemd/coredump /sdcd/systemd-coredump \
	2>"$d/sd-inner.log" &
t_track_pid $!
t_ok "systemd-coredump listens inside the container" t_wait_for 10 test -S "$root/run/systemd/coredump"

out=$(in_root /bin/sh -c 'ulimit -c unlimited; exec /build/tests/helpers/cdp-crasher --name sd-inside')
nspid=$(t_kv -t "$out" pid)
ev=$(t_event "$d" sd-inside)
t_is "$(t_jq "$ev" .outcome)" delivered "container: delivered to its systemd-coredump"
t_is "$(t_jq "$ev" .action)" systemd "container: action systemd"
hostpid=$(t_jq "$ev" .pid)
t_ok "container: its pid namespace numbers the task otherwise ($nspid, host $hostpid)" test "$nspid" != "$hostpid"
core=$(ls "$root/var/lib/systemd/coredump"/core.sd-inside.0.*."$nspid".*.zst 2>/dev/null | head -n 1)
t_ok "container: core.sd-inside.0.<boot>.$nspid.*.zst, the pid the container sees" test -n "$core"
[ -n "$core" ] && zstd -q -d -c "$core" >"$d/inner.core"
t_ok "container: the core is the task's ELF core" t_is_elf "$d/inner.core"
t_is "$(ls "$root/var/lib/systemd/coredump" | grep -c "\.$hostpid\.")" 0 "container: no file named by the host pid"
t_is "$(ls "$d/sd-host" | grep -c sd-inside)" 0 "container: the host's systemd-coredump got nothing"
t_is "$(xattr "$core" user.coredump.hostname)" "$(t_jq "$ev" .container.id | cut -c1-12)" \
	"container: hostname is the container's (docker's short id), not the host's"
t_is "$(xattr "$core" user.coredump.uid)" 0 "container: uid as the container sees it"

# A symlink in the container's root to the host's socket leads nowhere.
before=$(ls "$d/sd-host" | wc -l)
out=$(in_root /build/tests/helpers/cdp-crasher --name sd-escape)
ev=$(t_event "$d" sd-escape)
t_is "$(t_jq "$ev" .reason)" no-systemd-coredump "escape: a symlink out of the root is not followed"
t_is "$(t_jq "$ev" .outcome)" stored "escape: stored by the fallback"
t_is "$(ls "$d/sd-host" | wc -l)" "$before" "escape: the host's systemd-coredump got nothing"
t_proxy_stop

# The pipe intake (kernels before 6.16): the kernel's pipe is what systemd-coredump reads.
t_proxy_config "$d" pipe "[{\"name\":\"sd\",\"match\":{},\"action\":\"systemd\",\"address\":\"$d/sd.sock\"}]"
t_ok "daemon starts in pipe mode" t_proxy_start "$d"
out=$(bash -c 'ulimit -c unlimited; exec "$1" --name sd-pipe --size 200000' sh "$T_HELPERS/cdp-crasher")
pid=$(t_kv -t "$out" pid)
ev=$(t_event "$d" sd-pipe)
t_is "$(t_jq "$ev" .outcome)" delivered "pipe: delivered to systemd-coredump"
t_is "$(t_jq "$ev" .mode)" pipe "pipe: through the pipe intake"
core=$(ls "$d/sd-host"/core.sd-pipe.0.*."$pid".*.zst 2>/dev/null | head -n 1)
t_ok "pipe: its storage has the core of pid $pid" test -n "$core"
[ -n "$core" ] && zstd -q -d -c "$core" >"$d/pipe.core"
t_ok "pipe: an ELF core" t_is_elf "$d/pipe.core"
t_ok "pipe: the whole core" test "$(stat -c %s "$d/pipe.core")" -gt 200000
t_proxy_stop
t_done
