#!/bin/bash
# cgroup id <-> path for cgroups the test makes, the id the kernel reports for
# a crash inside one, and /proc/<pid>/cgroup with v1 lines on a hybrid host.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_core_pattern_save
t_tmpdir
d=$T_TMP
peer=$T_HELPERS/cdp-test-peer
rel="cdp-test.$$/system.slice/docker-$(t_hex64).scope"

t_ok "made a cgroup2 directory" t_cgroup_make "$CG2" "$rel"
cg=$T_CG
id=$("$peer" cgroup-id "$cg")
t_is "$id" "$(stat -c %i "$cg")" "cgroup id is the directory's inode"
t_is "$("$peer" cgroup-path "$id")" "/$rel" "cgroup id maps back to its path"
t_is "$("$peer" cgroup-path 1)" "/" "the root cgroup is /"

t_test_server "$d" --mode request --count 1
t_core_pattern_set "@@$d/kernel.sock"
out=$(sh -c 'echo 0 > "$1/cgroup.procs" && exec "$2" --name cg-crash' sh "$cg" "$T_HELPERS/cdp-crasher")
t_wait_for 10 test -e "$d/0.info"
t_is "$(t_kv "$d/0.info" cgroupid)" "$id" "crash inside the cgroup reports its id"
t_is "$(t_kv -t "$out" coredump)" 1 "crash inside the cgroup dumped"

# The walk the daemon trusts: each level's id and owner, the last checked against an id.
parent=${rel%/*}
mkdir "$cg/sub" && t_cgroup_adopt "$cg/sub"
chown 61236 "$cg/sub"
walk=$("$peer" cgroup-walk "$CG2" "/$rel/sub" "$(stat -c %i "$cg/sub")")
t_is "$(wc -l <<<"$walk")" 4 "walk: one level per component"
t_is "$(sed -n 3p <<<"$walk")" "$id 0 /$rel" "walk: the container's level, its id, root's"
t_is "$(sed -n 4p <<<"$walk" | cut -d' ' -f1-2)" "$(stat -c %i "$cg/sub") 61236" "walk: a user's directory, its owner"
t_is "$(sed -n 1p <<<"$walk" | cut -d' ' -f1)" "$(stat -c %i "$CG2/${parent%%/*}")" "walk: the first level's id"
# With the leaf's id the walk goes by inode numbers (one fstatat per level); without, by handles.
t_is "$("$peer" cgroup-walk "$CG2" "/$rel/sub" 0)" "$walk" "walk: by inode and by handle the same levels"
t_is "$("$peer" cgroup-walk "$CG2" "//$rel//sub/" "$(stat -c %i "$cg/sub")")" "$("$peer" cgroup-walk "$CG2" "//$rel//sub/" 0)" \
	"walk: repeated slashes, by inode and by handle alike"
t_like "$("$peer" cgroup-walk "$CG2" "/$rel/sub" "$id")" "error=-116" "walk: another cgroup's id at the end: ESTALE"
t_like "$("$peer" cgroup-walk "$CG2" "/$rel/../x" 0)" "error=-22" "walk: '..' refused"
t_like "$("$peer" cgroup-walk "$CG2" "/$rel/none" 0)" "error=-2" "walk: a missing level"
t_is "$("$peer" cgroup-walk "$CG2" / 1)" "" "walk: the root has no levels, and is id 1"
t_ok "removed the sub-cgroup" t_cgroup_remove "$cg/sub"

# A v1-only container on a hybrid host: cgroup2 root (id 1), the v1 lines name it.
if [ -d "$CG1_SYSTEMD" ]; then
	t_ok "made a v1 directory" t_cgroup_make "$CG1_SYSTEMD" "cdp-test.$$/lxc.payload.v1box"
	v1=$T_CG
	sh -c 'echo 0 > "$1/cgroup.procs" && exec sleep 30' sh "$v1" &
	sleeper=$!
	t_track_pid "$sleeper"
	t_wait_for 5 grep -q "lxc.payload.v1box" "/proc/$sleeper/cgroup"
	lines=$("$peer" cgroup-lines "$sleeper")
	t_like "$lines" "[0-9]+\|name=systemd\|/cdp-test\.$$/lxc\.payload\.v1box" "v1 line parsed with its path"
	t_ok "cgroup2 line parsed (the v2 root)" grep -qx '0||/' <<<"$lines"
	t_like "$("$peer" cgroup-walk "$CG1_SYSTEMD" "/cdp-test.$$/lxc.payload.v1box" 0)" "^[0-9]+ 0 /cdp-test" \
		"walk: a v1 hierarchy, by inode"
	t_like "$("$peer" cgroup-walk "$CG1_SYSTEMD" "/cdp-test.$$" 5)" "error=-95" \
		"walk: a v1 hierarchy has no cgroup ids to check"
else
	t_diag "no v1 name=systemd hierarchy here; v1 lines are covered by unit-cgroup"
fi

t_ok "removed the cgroup" t_cgroup_remove "$cg"
t_like "$("$peer" cgroup-path "$id" 2>/dev/null)" "error=-(116|2)" "a removed cgroup's id no longer resolves"
t_done
