#!/bin/bash
# The host's network namespace is the initial one, wherever the daemon runs.
# Here the daemon has a network namespace of its own (as in a DaemonSet pod
# without hostNetwork; it still sees the host's cgroups and the kernel
# socket's path): a "hostNetwork" container (a container cgroup in the
# initial network namespace) is never forwarded into the host's namespace,
# where anyone on the node can bind the collector's name. Status and log say
# that the lost-dump accounting cannot work from there.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter
t_core_pattern_save

t_tmpdir
d=$T_TMP
addr="@cdp-hostnet-$$"
t_proxy_config "$d" request '[
  {"name":"containers","match":{"container":true},"action":"forward","address":"'"$addr"'","fallback":"store"},
  {"name":"host","match":{},"action":"store"}]' '"limits": { "collector_timeout": "1s" }'

T_PROXY_WRAP=(unshare --net --)
t_ok "daemon starts in a network namespace of its own" t_proxy_start "$d"
T_PROXY_WRAP=()
t_ok "the daemon is not in our network namespace" \
	test "$(stat -L -c %i "/proc/$T_PROXY_PID/ns/net")" != "$(stat -L -c %i /proc/self/ns/net)"

# With the host's pid namespace (hostPID) the host's network namespace is at hand: the
# proc connector's socket is made there, and the lost-dump accounting works.
t_ok "the log says the proc connector is opened in the host's namespace" \
	grep -q "the proc connector is opened in the host's" "$d/proxy.err"
st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(t_jq "$st" .host_network.found)" true "status: the host's network namespace was found"
t_is "$(t_jq "$st" .host_network.daemon_in_it)" false "status: the daemon is not in it"
t_is "$(t_jq "$st" .lost_dump_accounting.active)" true "status: lost-dump accounting on all the same"
out=$("$T_HELPERS/cdp-crasher" --name hn-lost --non-dumpable --reap-delay-ms 3000)
t_ok "a crash that never reaches the socket is reported as lost" \
	t_wait_for 15 grep -q '"event":"coredump-lost".*"comm":"hn-lost"' "$d/events.jsonl"
t_ok "the daemon stops" t_proxy_stop

# The host's namespace found but not openable: accounting off, said at start.
T_PROXY_WRAP=(env CDP_FAULT=host-netns-closed unshare --net --)
t_ok "daemon starts where the host's namespace cannot be opened" t_proxy_start "$d"
T_PROXY_WRAP=()
t_ok "the log says the accounting cannot work there" \
	grep -q "runs outside the host's network namespace: lost-dump accounting cannot work here" "$d/proxy.err"
t_ok "the start line says so too" grep -q "listening on .*lost-dump accounting off" "$d/proxy.err"
st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(t_jq "$st" .lost_dump_accounting.active)" false "status: no lost-dump accounting"
t_like "$(t_jq "$st" .lost_dump_accounting.off_because)" "not in the host's network namespace" \
	"status: says why"
t_ok "the daemon stops" t_proxy_stop
T_PROXY_WRAP=(unshare --net --)
t_ok "daemon starts in a network namespace of its own again" t_proxy_start "$d"
T_PROXY_WRAP=()

# A hostNetwork container: its own cgroup, pid and mount namespaces, the host's network.
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
hn_cg=$T_CG
t_container_start "$hn_cg" --pid --mount --fork --mount-proc
hn_holder=$T_HOLDER
mkdir -p "$d/hostnet"
t_container_run "$hn_holder" "$hn_cg" "$T_COLLECTOR" --compress 0 --dir "$d/hostnet" --address "$addr" 2>"$d/hostnet.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/hostnet.log"

out=$(t_container_run "$hn_holder" "$hn_cg" "$T_HELPERS/cdp-crasher" --name hostnet-crash)
ev=$(t_event "$d" hostnet-crash)
t_is "$(t_jq "$ev" .reason)" host-network "a container on the host network: never forwarded"
t_is "$(t_jq "$ev" .outcome)" stored "a container on the host network: stored on the host"
t_is "$(ls "$d/hostnet" | wc -l)" 0 "the listener in the host's namespace got nothing"
t_ok "the log says it is the initial namespace" \
	grep -q "not forwarded into the task's network namespace: it is the initial network namespace" "$d/proxy.err"

# A container with a network namespace of its own is still served from there.
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
ct_cg=$T_CG
t_container_start "$ct_cg"
ct_holder=$T_HOLDER
mkdir -p "$d/own"
t_container_run "$ct_holder" "$ct_cg" "$T_COLLECTOR" --compress 0 --dir "$d/own" --address "$addr" 2>"$d/own.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/own.log"
out=$(t_container_run "$ct_holder" "$ct_cg" "$T_HELPERS/cdp-crasher" --name ownnet-crash)
ev=$(t_event "$d" ownnet-crash)
t_is "$(t_jq "$ev" .outcome)" delivered "a container's own network namespace: delivered"

t_ok "the daemon stops" t_proxy_stop

# ---- where the host's namespace cannot be found: only what is proven is used ------------
# (as outside the host's pid namespace on a kernel before 6.18: simulated by fault injection)
export CDP_FAULT=host-netns-unknown
t_ok "daemon starts without knowing the host's namespace" t_proxy_start "$d"
t_ok "the log says so" grep -q "host's network namespace cannot be found from here" "$d/proxy.err"
st=$("$T_PROXY" --config "$d/config.json" status)
t_is "$(t_jq "$st" .host_network.found)" false "status: not found"
out=$(t_container_run "$ct_holder" "$ct_cg" "$T_HELPERS/cdp-crasher" --name proven-crash)
ev=$(t_event "$d" proven-crash)
t_is "$(t_jq "$ev" .outcome)" delivered "the kernel's own connection proves the container's namespace is not the host's"
t_proxy_stop

export CDP_FAULT=host-netns-unknown,kernel-netns-cookie:1000
t_ok "daemon starts, and the kernel connection's cookie is unavailable too" t_proxy_start "$d"
out=$(t_container_run "$ct_holder" "$ct_cg" "$T_HELPERS/cdp-crasher" --name unproven-crash)
ev=$(t_event "$d" unproven-crash)
t_is "$(t_jq "$ev" .reason)" host-network "nothing proves it is not the host's: not forwarded (fail closed)"
t_is "$(t_jq "$ev" .outcome)" stored "fail closed: stored on the host"
t_ok "the log says why" grep -q "the host's network namespace is unknown here" "$d/proxy.err"
unset CDP_FAULT
t_proxy_stop
t_done
