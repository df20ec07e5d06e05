#!/bin/sh
# The facts the pipe intake for kernels before 6.16 (issue 11) builds on,
# checked on the kernel itself: no socket coredumps, "@@" silently taken as a
# core file name, pipe coredumps from the host and from a container (global
# pid and the container's cgroup visible to the helper while it reads),
# pidfds without PIDFD_GET_INFO, namespaces entered through a pidfd, and the
# built programs complete with their libraries.
# shellcheck source=../vm-lib.sh
. /cdp/lib.sh

pattern=/proc/sys/kernel/core_pattern

is "$(uname -r)" "$CDP_KERNEL" "runs the kernel the host fetched"
ok "no /proc/sys/kernel/core_modes: no socket coredumps (6.16+)" test ! -e /proc/sys/kernel/core_modes

# ---- the trap: "@@/path" is a file name here -----------------------------

ok "writing @@/run/x.sock to core_pattern succeeds" sh -c "printf '%s' '@@/run/x.sock' > $pattern"
is "$(cat $pattern)" "@@/run/x.sock" "core_pattern reads back @@/run/x.sock"
mkdir -p /tmp/trap/@@/run
# shellcheck disable=SC3045 # busybox sh has ulimit -c
out=$(cd /tmp/trap && ulimit -c unlimited && cdp-crasher --name trap)
is "$(kv "$out" coredump)" 1 "a crash under @@/run/x.sock dumps core"
ok "the core is the file @@/run/x.sock below the crashing task's cwd" is_elf /tmp/trap/@@/run/x.sock ||
	diag "$(find /tmp/trap)"

# ---- pipe coredumps --------------------------------------------------------

# The kernel runs the helper as root in the initial namespaces with the core
# on stdin; the crashing task stays until the core is read, so its /proc
# entry still answers. One marker file per dump, written last.
cat >/tmp/pipe-core <<'EOF'
#!/bin/sh
# $1: %P (pid in the initial pid namespace), $2: %p (pid in the task's own)
d=/tmp/cores
mkdir -p $d
cat /proc/$1/cgroup >$d/$1.cgroup
echo "$2" >$d/$1.nspid
cat >$d/$1.core
echo done >$d/$1.done
EOF
chmod 0755 /tmp/pipe-core
ok "a pipe pattern is accepted" sh -c "printf '%s' '|/tmp/pipe-core %P %p' > $pattern"

# crash_piped CMD...: runs a crasher, waits for the helper; sets out and
# dump (the helper's files without extension, named by the global pid).
crash_piped() {
	rm -rf /tmp/cores
	out=$("$@")
	wait_for 20 sh -c 'ls /tmp/cores/*.done' >/dev/null 2>&1 || { dump=""; return 1; }
	dump=$(ls /tmp/cores/*.done)
	dump=${dump%.done}
}

crash_piped cdp-crasher --name host-crash --size 1048576 --threads 2
is "$(kv "$out" signal)" 11 "host crash: the crasher really crashed (SIGSEGV)"
is "$(kv "$out" coredump)" 1 "host crash: the kernel reports a core dumped"
is "${dump##*/}" "$(kv "$out" pid)" "host crash: the helper got the crashing pid (%P)"
ok "host crash: the core came through the pipe (ELF)" is_elf "$dump.core"
ok "host crash: the core holds the touched 1 MiB" test "$(wc -c <"$dump.core")" -gt 1048576

# ---- a simulated container ---------------------------------------------------

id=$(hex64)
ok "a container starts (busybox unshare, cgroup named like docker's)" \
	container_start "system.slice/docker-$id.scope"
ok "the container has its own network namespace" \
	test "$(readlink /proc/"$CT_PID"/ns/net)" != "$(readlink /proc/self/ns/net)"
ok "the container has its own pid namespace" \
	test "$(readlink /proc/"$CT_PID"/ns/pid)" != "$(readlink /proc/self/ns/pid)"
is "$(cat /proc/"$CT_PID"/cgroup)" "0::/system.slice/docker-$id.scope" "the container is in its cgroup (cgroup2 only)"

crash_piped container_run cdp-crasher --name ct-crash
is "$(kv "$out" coredump)" 1 "container crash: the kernel reports a core dumped"
ok "container crash: the core came through the pipe (ELF)" is_elf "$dump.core"
is "$(cat "$dump.nspid" 2>/dev/null)" "$(kv "$out" pid)" "container crash: %p is the pid inside the container"
ok "container crash: %P is another pid, in the initial namespace" test "${dump##*/}" != "$(kv "$out" pid)"
is "$(cat "$dump.cgroup" 2>/dev/null)" "0::/system.slice/docker-$id.scope" \
	"container crash: the helper reads the container's cgroup from /proc/%P while dumping"

# ---- pidfds ----------------------------------------------------------------------

# cdp-test-peer names the step that failed: pidfd_open, then PIDFD_GET_INFO.
out=$(cdp-test-peer pidfd-ioctl $$ 2>&1)
is "$(printf '%s\n' "$out" | grep -c pidfd_open:)" 0 "pidfd_open works"
# 6.13 added it. Before 6.11 pidfds have no ioctls (ENOTTY); 6.11 and 6.12
# have the namespace ioctls, which refuse any argument before looking at
# the command (EINVAL): both mean "absent".
like "$(kv "$out" error)" '^-(25|22)$' "PIDFD_GET_INFO is absent (ENOTTY or EINVAL; 6.13+)"
diag "PIDFD_GET_INFO: error $(kv "$out" error)"

# What kernel/pidfd.c says anyway, from /proc through the pidfd (and, before
# 6.11, the network namespace through /proc/<pid>/ns too): the same facts.
out=$(cdp-test-peer pidfd-facts "$CT_PID" 2>&1)
is "$(kv "$out" tgid)" "$CT_PID" "fallback: the pidfd's pid, from its fdinfo and /proc"
is "$(kv "$out" ruid)" 0 "fallback: its uid, from /proc/<pid>/status"
is "$(kv "$out" cgroup_id)" "$(stat -c %i "$CT_CG")" "fallback: its cgroup id, the inode of its cgroup2 directory"
is "$(kv "$out" netns_ino)" "$(stat -L -c %i /proc/"$CT_PID"/ns/net)" "fallback: its network namespace"
is "$(kv "$out" alive)" 1 "fallback: alive (signal 0 answers)"

name=@cdp-qemu-$$
bg /tmp/listener.out container_run cdp-test-peer listen "$name"
wait_line /tmp/listener.out listening=1 >/dev/null
echo "payload-$$" >/tmp/payload
out=$(cdp-test-peer send-here "$name" /tmp/payload 2>/dev/null)
is "$(kv "$out" error)" -111 "the container's abstract socket is not reachable from here"
out=$(cdp-test-peer send "$CT_PID" "$name" /tmp/payload 2>&1)
is "$(kv "$out" sent)" 1 "connected inside the container's netns through its pidfd (setns)"
is "$(kv "$(wait_line /tmp/listener.out '^content=')" content)" "payload-$$" \
	"the listener in the container read the passed fd"

# ---- the programs, with their libraries -------------------------------------------

like "$(coredump-proxy --version 2>&1)" '^coredump-proxy [0-9]' "coredump-proxy --version runs"
ok "coredump-collector --help runs" sh -c 'coredump-collector --help >/dev/null'

mkdir -p /etc/coredump-proxy
cat >/etc/coredump-proxy/example.json <<'EOF'
{
  "version": 1,
  "listen": { "path": "/run/coredump-proxy/kernel.sock", "protocol": "request" },
  "events": "/var/log/coredump-proxy/events.jsonl",
  "store": { "directory": "/var/lib/coredump-proxy", "max_use": "1G", "keep_free": "15%" },
  "routes": [
    { "name": "containers", "match": { "container": true }, "action": "forward",
      "address": "@coredump-collector", "fallback": "store" },
    { "name": "noisy", "match": { "comm": "noisy-*" }, "action": "reject" },
    { "name": "host", "match": {}, "action": "store" }
  ]
}
EOF
out=$(coredump-proxy check-config /etc/coredump-proxy/example.json 2>&1)
rc=$?
is "$rc" 0 "coredump-proxy check-config: exit 0"
like "$out" 'ok \(3 routes\)' "coredump-proxy check-config: ok (3 routes)"

# Started without --install-pattern and with a socket protocol the kernel
# lacks: it warns that no dump will arrive, and listens and answers anyway
# (scenarios/pipe.sh has the pipe mode these kernels get).
d=/tmp/daemon
mkdir -p $d
cat >$d/config.json <<EOF
{
  "listen": { "path": "$d/kernel.sock", "protocol": "request" },
  "events": "$d/events.jsonl",
  "store": { "directory": "$d/store" },
  "routes": [ { "name": "host", "match": {}, "action": "store" } ]
}
EOF
bg $d/proxy.err coredump-proxy --config $d/config.json --log-level debug
ok "the daemon starts and listens (its seccomp filter and capabilities load)" \
	wait_line $d/proxy.err 'listening on' 15 || diag "$(cat $d/proxy.err)"
out=$(coredump-proxy status --config $d/config.json 2>&1)
is "$(json "$out" .config.listen 2>&1)" "$d/kernel.sock" "coredump-proxy status answers with JSON"
is "$(json "$out" .config.pattern_installed 2>&1)" false "the daemon left core_pattern alone"
bg_stop "$BG_PID"
is "$?" 0 "the daemon exits 0 on SIGTERM"

# ---- facts for the record (not asserted: they inform, they do not gate) ----------

diag "lsm: $(cat /sys/kernel/security/lsm 2>/dev/null || echo 'no securityfs')"
diag "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
diag "core_pipe_limit: $(cat /proc/sys/kernel/core_pipe_limit)"

done_testing
