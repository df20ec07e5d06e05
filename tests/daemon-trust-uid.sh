#!/bin/bash
# A collector must be able to read the dump anyway: the process that answers
# runs as the crashing task's uid, or is uid 0 with CAP_SYS_PTRACE over it
# (the kernel's own rule for reading another process's memory). In one
# container: a collector bound by another uid gets no root task's dump
# (fallback, untrusted-collector), a same-uid task's it does; a root
# collector with CAP_SYS_PTRACE gets both; a trusted listener whose answer
# comes from a process of another uid is refused; a route's collector_uid
# widens the rule when the host config says so.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv
t_core_pattern_save

U=61235 # a container user, e.g. the www-data of a web server's workers
t_tmpdir
d=$T_TMP
cp "$T_HELPERS/cdp-crasher" "$d/crasher" && chmod 0755 "$d/crasher"
route='{"name":"containers","match":{"container":true},"action":"forward","fallback":"store"'
t_proxy_config "$d" request "[$route}]" '"limits": { "collector_timeout": "1s" }'
t_ok "daemon starts" t_proxy_start "$d"

t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_container_start "$cg"
holder=$T_HOLDER

# listen_as UID DIR: the reference collector in the container, as UID; sets LISTENER.
listen_as() {
	mkdir -p "$2" && chown "$1:$1" "$2"
	t_container_run "$holder" "$cg" setpriv --reuid="$1" --regid="$1" --clear-groups \
		"$T_COLLECTOR" --compress 0 --dir "$2" 2>"$2.log" &
	LISTENER=$!
	t_track_pid "$LISTENER"
	t_wait_for 10 grep -qs "listening on" "$2.log"
}

# peer MODE OUT: the test peer as root (it keeps its capabilities); sets LISTENER.
peer() {
	t_container_run "$holder" "$cg" "$T_HELPERS/cdp-test-peer" collector @coredump-collector "$1" >"$2" 2>&1 &
	LISTENER=$!
	t_track_pid "$LISTENER"
	t_wait_for 10 grep -qs listening=1 "$2"
}

stop_listener() {
	local p
	for p in $(t_descendants "$LISTENER") "$LISTENER"; do kill "$p" 2>/dev/null; done
	wait "$LISTENER" 2>/dev/null
	t_wait_for 5 bash -c "! grep -q '@coredump-collector' /proc/$holder/net/unix"
}

# crash_as UID COMM: sets ev.
crash_as() {
	if [ "$1" = 0 ]; then
		t_container_run "$holder" "$cg" "$d/crasher" --name "$2" >/dev/null
	else
		t_container_run "$holder" "$cg" setpriv --reuid="$1" --regid="$1" --clear-groups "$d/crasher" \
			--name "$2" >/dev/null
	fi
	ev=$(t_event "$d" "$2")
}

# ---- a collector of another uid ------------------------------------------------------
listen_as "$U" "$d/www"
crash_as 0 root-task
t_is "$(t_jq "$ev" .reason)" untrusted-collector "another uid's collector: the root task's dump is not delivered"
t_is "$(t_jq "$ev" .outcome)" stored "another uid's collector: the fallback stores it"
t_ok "the log says it is the wrong uid" grep -q "wrong uid: pid .* runs as uid $U" "$d/proxy.err"
t_is "$(ls "$d/www" | wc -l)" 0 "the other uid's collector got nothing"

crash_as "$U" www-task
t_is "$(t_jq "$ev" .outcome)" delivered "the same uid's task: delivered to its collector"
t_ok "the collector wrote it" t_wait_for 5 test -f "$d/www/$(t_jq "$ev" .id).core"

# The reference collector drops every capability: as root it is no more than uid 0.
stop_listener
listen_as 0 "$d/rootref"
crash_as "$U" www-to-rootref
t_is "$(t_jq "$ev" .reason)" untrusted-collector "root without CAP_SYS_PTRACE: not another uid's dump"
crash_as 0 root-to-rootref
t_is "$(t_jq "$ev" .outcome)" delivered "root without capabilities: root's own dump"
stop_listener

# ---- a root collector with CAP_SYS_PTRACE gets both ---------------------------------------
peer keep "$d/keep.out"
crash_as 0 root-to-root
t_is "$(t_jq "$ev" .outcome)" delivered "a privileged root collector: the root task's dump"
crash_as "$U" www-to-root
t_is "$(t_jq "$ev" .outcome)" delivered "a privileged root collector: another uid's dump"
t_is "$(grep -c '^kept=[1-9]' "$d/keep.out")" 2 "it read both"
stop_listener

# ---- the answer is checked, not only the listener -------------------------------------------
peer "handoff:$U" "$d/handoff.out"
crash_as 0 root-handoff
t_is "$(t_jq "$ev" .reason)" untrusted-collector "a root listener whose answer comes from uid $U: refused"
t_ok "the log names the answer's sender" grep -q "refusing the answer of the collector.*wrong uid" "$d/proxy.err"
t_is "$(grep -c '^kept=[0-9]' "$d/handoff.out")" 0 "the other uid's process got no dump"
stop_listener

# ---- a route may widen the rule ----------------------------------------------------------------
t_proxy_stop
t_proxy_config "$d" request "[$route"', "collector_uid": "any"}]' '"limits": { "collector_timeout": "1s" }'
t_ok "daemon restarts with collector_uid any" t_proxy_start "$d"
listen_as "$U" "$d/www-any"
crash_as 0 root-any
t_is "$(t_jq "$ev" .outcome)" delivered "collector_uid any: the other uid's collector gets the root task's dump"
stop_listener

t_proxy_stop
t_proxy_config "$d" request "[$route"', "collector_uid": ['"$U"']}]' '"limits": { "collector_timeout": "1s" }'
t_ok "daemon restarts with collector_uid [$U]" t_proxy_start "$d"
listen_as "$U" "$d/www-list"
crash_as 0 root-list
t_is "$(t_jq "$ev" .outcome)" delivered "collector_uid [$U]: that uid's collector gets the root task's dump"
stop_listener

# ---- without SCM_PIDFD (kernels before 6.5, played by fault injection) ------------------------
# A pid from SCM_CREDENTIALS may have been reused by the time it is looked up: only the
# listener itself, whose pidfd the proxy holds, is believed.
t_proxy_stop
export CDP_FAULT=no-passpidfd:1000
t_proxy_config "$d" request "[$route}]" '"limits": { "collector_timeout": "1s" }'
t_ok "daemon restarts without SO_PASSPIDFD" t_proxy_start "$d"
listen_as 0 "$d/creds-only"
crash_as 0 creds-listener
t_is "$(t_jq "$ev" .outcome)" delivered "SCM_CREDENTIALS alone: the listener's own answer is believed"
stop_listener
peer handoff:0 "$d/handoff-root.out"
crash_as 0 creds-child
t_is "$(t_jq "$ev" .reason)" untrusted-collector "SCM_CREDENTIALS alone: another process's answer is not"
t_ok "the log says no credentials" grep -q "no credentials: the answer came from another process" "$d/proxy.err"
stop_listener
unset CDP_FAULT

t_ok "the daemon stops" t_proxy_stop
t_done
