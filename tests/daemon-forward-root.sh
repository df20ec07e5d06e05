#!/bin/bash
# A path address names a socket inside the crashing task's root: it is
# resolved there (RESOLVE_IN_ROOT), so a container whose root holds a symlink
# to a host path cannot lead the proxy to a host socket, while a collector
# listening inside that root is found.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter chroot
t_core_pattern_save

t_tmpdir
d=$T_TMP
root=$d/root

# The container's root: /usr and the build tree bound in, the rest its own.
mkdir -p "$root"/{usr,run,dumps,build,proc} "$d/host" "$d/host-dumps"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
# Inside the container this path leads to the host's socket, if anyone follows it from the host's root.
ln -s "$d/host/collector.sock" "$root/run/escape.sock"

# A host process listening at the host path the symlink names.
"$T_COLLECTOR" --compress 0 --dir "$d/host-dumps" --address "$d/host/collector.sock" 2>"$d/host.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/host.log"

t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_ok "container started" t_container_start "$cg"
holder=$T_HOLDER
nsenter -t "$holder" -m -- sh -c 'mount --bind /usr "$1/usr" && mount --bind "$2" "$1/build"' \
	sh "$root" "$top_builddir"

# in_root CMD...: runs CMD in the container, chrooted into its root.
in_root() { t_container_run "$holder" "$cg" chroot "$root" "$@"; }

t_proxy_config "$d" request '[{"name":"escape","match":{"container":true},"action":"forward","address":"/run/escape.sock"}]'
t_ok "daemon starts" t_proxy_start "$d"
out=$(in_root /build/tests/helpers/cdp-crasher --name root-escape)
ev=$(t_event "$d" root-escape)
t_is "$(t_jq "$ev" .reason)" no-collector "a symlink out of the container's root leads nowhere"
t_is "$(t_jq "$ev" .outcome)" stored "the dump falls back to the host store"
t_is "$(ls "$d/host-dumps" | wc -l)" 0 "the host listener received nothing"
t_ok "it was not even connected to" bash -c "! grep -q 'malformed\|no dump\|reading the request' '$d/host.log'"

# The same resolution finds a collector that listens inside the root.
in_root /build/coredump-collector --compress 0 --dir /dumps --address /run/collector.sock 2>"$d/inner.log" &
t_track_pid $!
t_ok "a collector runs inside the root (no /proc there)" t_wait_for 10 grep -qs "listening on" "$d/inner.log"
t_proxy_config "$d" request '[{"name":"inside","match":{"container":true},"action":"forward","address":"/run/collector.sock"}]'
kill -HUP "$T_PROXY_PID"
t_wait_for 10 grep -q "configuration reloaded" "$d/proxy.err"
out=$(in_root /build/tests/helpers/cdp-crasher --name root-inside)
ev=$(t_event "$d" root-inside)
t_is "$(t_jq "$ev" .outcome)" delivered "a collector inside the container's root is reached"
t_ok "its core is in the container's root" t_is_elf "$root/dumps/$(t_jq "$ev" .id).core"
t_proxy_stop
t_done
