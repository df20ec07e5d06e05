#!/bin/bash
# The Python collector printed in docs/collector-protocol.md works as written:
# a dump forwarded by the daemon arrives through it, whole, with the facts the
# kernel proved; a forged request with a socket of the container's own as the
# dump writes nothing. Both where it sees the crashing task (the container's
# pid namespace) and where it does not (a pid namespace of its own).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter python3
t_core_pattern_save

t_tmpdir
d=$T_TMP
# The document's only python block, verbatim.
awk '/^```python$/ {on=1; next} /^```$/ {on=0} on' "$top_srcdir/docs/collector-protocol.md" >"$d/collector.py"
t_ok "the protocol document has a Python collector" test -s "$d/collector.py"

t_proxy_config "$d" request '[{"name":"containers","match":{"container":true},"action":"forward"}]'
t_ok "daemon starts" t_proxy_start "$d"

id=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$id.scope"
cg=$T_CG
t_container_start "$cg"
t_container_run "$T_HOLDER" "$cg" python3 "$d/collector.py" "$d/dumps" 2>"$d/py.err" &
t_track_pid $!
t_wait_for 10 test -d "$d/dumps"
sleep 0.5

out=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name py-crash --size 3145728)
ev=$(t_event "$d" py-crash)
dump=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "delivered to the Python collector"
t_wait_for 5 test -f "$d/dumps/$dump.json"
t_ok "the Python collector wrote an ELF core" t_is_elf "$d/dumps/$dump.core"
t_is "$(t_jq "$ev" .bytes)" "$(stat -c %s "$d/dumps/$dump.core")" "the proxy's event has the collector's byte count"
t_is "$(jq -r .comm "$d/dumps/$dump.json")" py-crash "its metadata came from message 1"
t_is "$(jq -r .container.id "$d/dumps/$dump.json")" "$id" "message 1 names the container"
t_is "$(t_kv -t "$out" coredump)" 1 "the task got its core"
meta=$(cat "$d/dumps/$dump.json" 2>/dev/null)
t_is "$(t_jq "$meta" .verified.by)" pidfd "it proved the dump by the task's pidfd"
t_is "$(t_jq "$meta" .pid)" "$(t_kv -t "$out" pid)" "its pid is the kernel's"
res=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-fake-proxy" forge @coredump-collector socketpair forged-py)
t_is "$(printf '%s\n' "$res" | sed -n 's/^answer=//p')" eof "a process of its pid namespace is refused at once"

# The same collector in a pid namespace of its own (as a Kubernetes sidecar): the task is out of sight.
id=$(t_hex64)
t_cgroup_make "$CG2" "system.slice/docker-$id.scope"
cg=$T_CG
t_container_start "$cg"
nsenter -t "$T_HOLDER" -n -- unshare --pid --fork --mount --mount-proc sh -c \
	'echo 0 > "$1/cgroup.procs" && exec python3 "$2" "$3"' py "$cg" "$d/collector.py" "$d/side" 2>"$d/side.err" &
t_track_pid $!
t_wait_for 10 test -d "$d/side"
sleep 0.5
res=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-fake-proxy" forge @coredump-collector socketpair forged-side)
t_is "$(printf '%s\n' "$res" | sed -n 's/^result=//p' | jq -r .error)" refused \
	"own pid namespace: a forged dump from the container is refused"
t_is "$(ls -A "$d/side" | wc -l)" 0 "own pid namespace: nothing written for it"
out=$(t_container_run "$T_HOLDER" "$cg" "$T_HELPERS/cdp-crasher" --name py-side --size 1048576)
ev=$(t_event "$d" py-side)
dump=$(t_jq "$ev" .id)
t_is "$(t_jq "$ev" .outcome)" delivered "own pid namespace: a real dump is delivered"
t_wait_for 5 test -f "$d/side/$dump.json"
meta=$(cat "$d/side/$dump.json" 2>/dev/null)
t_is "$(t_jq "$meta" .verified.by)" connection "own pid namespace: proved by the connection"
t_is "$(t_jq "$meta" '.verified.keys | join(",")')" uid,gid "own pid namespace: uid and gid proved, not the pid"
t_ok "the Python collector raised nothing" bash -c "! grep -q Traceback '$d/py.err' '$d/side.err'"
t_done
