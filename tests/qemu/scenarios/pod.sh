#!/bin/sh
# The DaemonSet on a kernel without the coredump socket (issue 14 on the
# pipe intake of issue 11), as contrib/kubernetes/base runs it: the init
# container's command puts the (static) pipe helper on the node at
# /opt/cdp; each pod runs the daemon in a mount namespace of its own (the
# node's /opt is not in its view; /run/coredump-proxy and the store are the
# node's, as hostPaths at the same paths), with the ConfigMap's "auto" and
# listen.pipe_helper, and a socket of its own. It picks the pipe mode,
# checks the helper from the node's mount namespace and installs the
# pattern; a second pod takes over during a stream of crashes, the first
# ends without restoring, every crash has exactly one event; a pod killed
# with SIGKILL is repaired by the next; the last one stopped restores
# core_pattern and core_pipe_limit as they were before any pod.
# shellcheck source=../vm-lib.sh
. /cdp/lib.sh

pattern=/proc/sys/kernel/core_pattern
limit=/proc/sys/kernel/core_pipe_limit
d=/tmp/pod
mkdir -p $d /run/coredump-proxy /var/lib/coredump-proxy
pattern_before=$(cat $pattern)
limit_before=$(cat $limit)

# The init container: its command from the manifest (busybox has no install(1): cp and
# chmod; kubernetes-manifests.sh runs the manifest's own), the image's helper path; the
# hostPath /opt/cdp is mounted at /node/opt/cdp in its view.
mkdir -p /opt/cdp /node/opt/cdp
mount --bind /opt/cdp /node/opt/cdp
ok "the init container's command puts the helper on the node" sh -c \
	'cp /usr/bin/coredump-proxy-pipe /node/opt/cdp/.coredump-proxy-pipe.new &&
	 chmod 0755 /node/opt/cdp/.coredump-proxy-pipe.new &&
	 mv -f /node/opt/cdp/.coredump-proxy-pipe.new /node/opt/cdp/coredump-proxy-pipe'
umount /node/opt/cdp
ok "the helper is on the node" test -x /opt/cdp/coredump-proxy-pipe

cat >$d/config.json <<EOF
{
  "listen": { "path": "/run/coredump-proxy/kernel.sock", "protocol": "auto",
              "pipe_helper": "/opt/cdp/coredump-proxy-pipe" },
  "events": "-",
  "store": { "directory": "/var/lib/coredump-proxy", "compress": 0 },
  "routes": [ { "name": "host", "match": {}, "action": "store" } ]
}
EOF

# pod NAME: a pod's daemon; its log in $d/NAME.log, its keeper's pid in POD, its socket in SOCK.
pod() {
	SOCK=/run/coredump-proxy/kernel-$(uuid).sock
	LOG=$d/$1.log
	bg "$LOG" unshare -m sh -c 'mount -t tmpfs pod /opt && exec "$@"' pod \
		coredump-proxy --config $d/config.json --install-pattern --socket="$SOCK" --log-level debug
	POD=$BG_PID
	wait_line "$LOG" 'listening on' 30 >/dev/null
}

# events COMM: how many event lines name the crash COMM, in every pod's log.
events() { cat $d/*.log | grep -c "^{\"event\":\"coredump\".*\"comm\":\"$1\""; }

# ---- the first pod ---------------------------------------------------------------------------
pod a
is "$?" 0 "pod a: the daemon starts" || diag "$(tail -n 20 $d/a.log)"
sock_a=$SOCK
pod_a=$POD
log_a=$LOG
like "$(cat $log_a)" 'mode pipe: this kernel has no kernel.core_modes' "pod a: pipe mode, and why"
ok "pod a: the node's /opt/cdp is not in its view" test ! -e "/proc/$pod_a/root/opt/cdp/coredump-proxy-pipe"
like "$(cat $log_a)" 'core_pattern is written from the host' "pod a: it writes the pattern from the node's mount namespace"
is "$(cat $pattern)" "|/opt/cdp/coredump-proxy-pipe $sock_a P=%P s=%s t=%t d=%d" \
	"pod a: the pattern names the node's helper and its socket"
ok "pod a: core_pipe_limit raised" test "$(cat $limit)" -gt 0
cdp-crasher --name pod-a-crash --size 1048576 >/dev/null
ev=$(wait_line $log_a '"comm":"pod-a-crash"' 30)
is "$(json "$ev" .outcome)/$(json "$ev" .mode)" stored/pipe "pod a: a crash is stored through the helper"
ok "pod a: its core is in the node's store" is_elf /var/lib/coredump-proxy/"$(json "$ev" .id)".core

# ---- a rollout: pod b starts beside pod a while crashes keep coming -----------------------------
(
	i=0
	while [ $i -lt 12 ]; do
		i=$((i + 1))
		cdp-crasher --name "roll-$i" >/dev/null 2>&1
		sleep 0.3
	done
) &
storm=$!
sleep 1
pod b
is "$?" 0 "pod b: the daemon starts beside pod a" || diag "$(tail -n 20 $d/b.log)"
sock_b=$SOCK
pod_b=$POD
is "$(cat $pattern)" "|/opt/cdp/coredump-proxy-pipe $sock_b P=%P s=%s t=%t d=%d" "pod b: it takes the pattern over"
wait_for 30 sh -c "! kill -0 $pod_a 2>/dev/null"
wait "$pod_a"
is "$?" 0 "pod a: ends by itself once taken over, exit 0"
like "$(cat $log_a)" 'taken over|no longer points' "pod a: it says why" || diag "$(tail -n 5 $log_a)"
is "$(cat $pattern)" "|/opt/cdp/coredump-proxy-pipe $sock_b P=%P s=%s t=%t d=%d" "pod a: ended without restoring"
wait "$storm"
missing=""
twice=""
i=0
while [ $i -lt 12 ]; do
	i=$((i + 1))
	wait_for 20 sh -c "cat $d/*.log | grep -q '\"comm\":\"roll-$i\"'"
	n=$(events "roll-$i")
	[ "$n" = 0 ] && missing="$missing roll-$i"
	[ "$n" -gt 1 ] && twice="$twice roll-$i"
done
is "$missing" "" "rollout: every crash has an event" || diag "$(ls /var/lib/coredump-proxy/.unreported 2>&1)"
is "$twice" "" "rollout: no crash has two"
ok "rollout: some crashes went to each pod" sh -c \
	"grep -q '\"comm\":\"roll-' $log_a && grep -q '\"comm\":\"roll-' $d/b.log"

# ---- pod b killed (OOM, eviction): the pattern stays; the next pod repairs ---------------------
kill -KILL "$pod_b"
wait "$pod_b" 2>/dev/null
is "$(cat $pattern)" "|/opt/cdp/coredump-proxy-pipe $sock_b P=%P s=%s t=%t d=%d" "pod b killed: the pattern stays"
pod c
is "$?" 0 "pod c: the daemon starts after a SIGKILL" || diag "$(tail -n 20 $d/c.log)"
pod_c=$POD
sock_c=$SOCK
is "$(cat $pattern)" "|/opt/cdp/coredump-proxy-pipe $sock_c P=%P s=%s t=%t d=%d" "pod c: repaired, the pattern is its own"
cdp-crasher --name pod-c-crash >/dev/null
ev=$(wait_line $d/c.log '"comm":"pod-c-crash"' 30)
is "$(json "$ev" .outcome)" stored "pod c: a crash is stored"

# ---- the DaemonSet deleted: the last pod restores what was there before any -------------------
bg_stop "$pod_c"
is "$?" 0 "pod c: exits 0 on SIGTERM"
is "$(cat $pattern)" "$pattern_before" "the last pod restores the pattern from before any pod"
is "$(cat $limit)" "$limit_before" "and core_pipe_limit"

done_testing
