#!/bin/bash
# Containers by cgroup ancestry, not by names. An unprivileged user owns the
# subtree its user manager was delegated (user@UID.service) and names
# cgroups there as it likes: a docker scope with a victim container's id, a
# pod slice with a victim pod's uid. Listening in the victim's network
# namespace from there earns no trust; its crashes are its own (rootless,
# owner_uid), select no route written for the victim, and spend neither
# the victim's rate limit nor escape its own by a new name per crash.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter setpriv
t_core_pattern_save

U=61234 # the attacker: no capabilities, owner of its user manager's cgroup
t_tmpdir
d=$T_TMP
cp "$T_HELPERS/cdp-crasher" "$d/crasher" && chmod 0755 "$d/crasher"

W=$(t_hex64) # a container whose id a route names
routes='[
  {"name":"by-id","match":{"container_id":"'"$W"'"},"action":"store"},
  {"name":"containers","match":{"container":true},"action":"forward","fallback":"store"},
  {"name":"host","match":{},"action":"store"}
]'
t_proxy_config "$d" request "$routes" \
	'"limits": { "collector_timeout": "1s", "per_container": { "dumps": 3, "interval": "1h" } }'
t_ok "daemon starts" t_proxy_start "$d"

# The user's delegated subtree, as systemd makes it: root's slices, the user's service.
t_cgroup_make "$CG2" "user.slice/user-$U.slice/user@$U.service"
UM=$T_CG
chown "$U:$U" "$UM" "$UM/cgroup.procs" "$UM/cgroup.subtree_control" "$UM/cgroup.threads"

# forge REL: the user makes REL below its service (as itself); sets FORGED.
forge() {
	local path=$UM comp
	local -a comps
	IFS=/ read -r -a comps <<<"$1"
	for comp in "${comps[@]}"; do
		path="$path/$comp"
		if [ ! -d "$path" ]; then
			t_as "$U" mkdir "$path" || return 1
			t_cgroup_adopt "$path"
		fi
	done
	FORGED=$path
}

# attacker_listen CG HOLDER DIR: the user's own coredump-collector, in CG, in HOLDER's network namespace.
attacker_listen() {
	local cg=$1 holder=$2 dir=$3
	mkdir -p "$dir" && chown "$U:$U" "$dir"
	nsenter -t "$holder" -n -- sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		setpriv --reuid="$U" --regid="$U" --clear-groups "$T_COLLECTOR" --compress 0 --dir "$dir" 2>"$dir.log" &
	ATTACKER=$!
	t_track_pid "$ATTACKER"
	t_wait_for 10 grep -qs "listening on" "$dir.log"
}

# ---- a forged docker scope listening in the victim container's namespace --------------
V=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$V.scope"
v_cg=$T_CG
t_container_start "$v_cg"
v_holder=$T_HOLDER
t_ok "the user names a cgroup after the victim" forge "app.slice/docker-$V.scope"
attacker_listen "$FORGED" "$v_holder" "$d/stolen"

out=$(t_container_run "$v_holder" "$v_cg" "$d/crasher" --name victim-root)
ev=$(t_event "$d" victim-root)
t_is "$(t_jq "$ev" .container.id)" "$V" "the victim's crash is the victim's"
t_is "$(t_jq "$ev" '.container | has("owner_uid")')" false "the victim is a system container"
t_is "$(t_jq "$ev" .reason)" untrusted-collector "a listener in a forged scope is not trusted"
t_is "$(t_jq "$ev" .outcome)" stored "the victim's dump stays on the host"
t_ok "the log says it is the wrong cgroup" grep -q "wrong cgroup: pid .* in cgroup /user.slice/user-$U.slice" "$d/proxy.err"

# The same user as the victim's task: the cgroup rule alone refuses it.
out=$(t_container_run "$v_holder" "$v_cg" setpriv --reuid="$U" --regid="$U" --clear-groups "$d/crasher" \
	--name victim-user)
ev=$(t_event "$d" victim-user)
t_is "$(t_jq "$ev" .reason)" untrusted-collector "same uid as the task, forged cgroup: still not trusted"
t_is "$(ls "$d/stolen" | wc -l)" 0 "the forged listener got nothing"

# The victim's own collector is trusted (and the refusal above was not of forwarding as such).
kill "$ATTACKER" && wait "$ATTACKER" 2>/dev/null
mkdir -p "$d/own"
t_container_run "$v_holder" "$v_cg" "$T_COLLECTOR" --compress 0 --dir "$d/own" 2>"$d/own.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/own.log"
out=$(t_container_run "$v_holder" "$v_cg" "$d/crasher" --name victim-own)
ev=$(t_event "$d" victim-own)
t_is "$(t_jq "$ev" .outcome)" delivered "the victim's own collector gets its dump"

# ---- a forged pod slice listening in the victim pod's namespace --------------------------
PU=$(t_uuid)
pod="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${PU//-/_}.slice"
C=$(t_hex64)
t_cgroup_make "$CG2" "$pod/cri-containerd-$C.scope"
app_cg=$T_CG
t_container_start "$app_cg"
pod_holder=$T_HOLDER
t_ok "the user names a pod slice after the victim pod" \
	forge "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${PU//-/_}.slice/cri-containerd-$(t_hex64).scope"
attacker_listen "$FORGED" "$pod_holder" "$d/stolen-pod"
out=$(t_container_run "$pod_holder" "$app_cg" "$d/crasher" --name pod-app)
ev=$(t_event "$d" pod-app)
t_is "$(t_jq "$ev" .container.pod_uid)" "$PU" "the pod's crash names its pod"
t_is "$(t_jq "$ev" .reason)" untrusted-collector "a listener in a forged pod slice is not in the pod"
t_is "$(ls "$d/stolen-pod" | wc -l)" 0 "the forged pod listener got nothing"
kill "$ATTACKER" && wait "$ATTACKER" 2>/dev/null

# ---- rate limits: keyed by cgroup, and one budget per rootless owner -------------------------
t_cgroup_make "$CG2" "system.slice/docker-$W.scope"
w_cg=$T_CG
t_container_start "$w_cg"
w_holder=$T_HOLDER
forge "app.slice/docker-$W.scope"
w_forged=$FORGED

# attacker_crash CG COMM: a crash of the user's in CG (host namespaces); sets ev.
attacker_crash() {
	sh -c 'echo 0 > "$1/cgroup.procs" && shift && exec "$@"' sh "$1" \
		setpriv --reuid="$U" --regid="$U" --clear-groups "$d/crasher" --name "$2" >/dev/null
	ev=$(t_event "$d" "$2")
}

for i in 1 2 3; do
	attacker_crash "$w_forged" "forged-w$i"
	t_is "$(t_jq "$ev" .container.owner_uid)" "$U" "forged crash $i: rootless, owned by the user"
	t_is "$(t_jq "$ev" .container.id)" "$W" "forged crash $i: with the id the user chose"
	t_is "$(t_jq "$ev" .route)" containers "forged crash $i: the route written for that id does not apply"
	t_ok "forged crash $i: within the user's budget" test "$(t_jq "$ev" .reason)" != rate-limit
done

out=$(t_container_run "$w_holder" "$w_cg" "$d/crasher" --name real-w)
ev=$(t_event "$d" real-w)
t_is "$(t_jq "$ev" .route)" by-id "the real container's crash takes its route"
t_is "$(t_jq "$ev" .outcome)" stored "the real container's crash is not rejected"
t_ok "its rate limit was not spent by the user" test "$(t_jq "$ev" .reason)" != rate-limit
t_is "$(t_kv -t "$out" coredump)" 1 "the real container's task got its core"

forge "app.slice/docker-$(t_hex64).scope"
attacker_crash "$FORGED" forged-fresh
t_is "$(t_jq "$ev" .reason)" rate-limit "a new name per crash does not escape the user's budget"
t_is "$(t_jq "$ev" .outcome)" rejected "the user's fourth crash is rejected"

t_ok "the daemon stops" t_proxy_stop
t_done
