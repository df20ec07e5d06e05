#!/bin/bash
# exe as the task sees it: a task that runs chroot()ed (as some runtimes
# leave it) names its executable inside its root; the host's path stays in
# the host's metadata as host_exe, and reaches a collector only when the
# route exposes host facts.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cgroup2
t_require_cmd jq unshare nsenter chroot
t_core_pattern_save

t_tmpdir
d=$T_TMP
root=$d/root
mkdir -p "$root/usr" "$root/bin" "$root/proc"
for l in lib lib32 lib64 libx32 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$root/$l"; done
cp "$T_HELPERS/cdp-crasher" "$root/bin/cdp-crasher"

t_proxy_config "$d" request '[
  {"name":"exposed","match":{"container":true,"comm":"ct-exposed"},"action":"forward","expose_host":true},
  {"name":"containers","match":{"container":true},"action":"forward"},
  {"name":"host","match":{},"action":"store"}]'
t_ok "daemon starts" t_proxy_start "$d"

# A host task in a chroot (a private mount namespace lends it the host's /usr).
out=$(unshare --mount sh -c 'mount --bind /usr "$1/usr" && exec chroot "$1" /bin/cdp-crasher --name chrooted' \
	sh "$root")
ev=$(t_event "$d" chrooted)
meta=$d/store/$(t_jq "$ev" .id).json
t_is "$(jq -r .exe "$meta")" /bin/cdp-crasher "host metadata: exe as the task names it"
t_is "$(jq -r .host_exe "$meta")" "$root/bin/cdp-crasher" "host metadata: host_exe as the host sees it"

# In a container, chrooted: the collector is told the task's own path, not the host's.
t_cgroup_make "$CG2" "system.slice/docker-$(t_hex64).scope"
cg=$T_CG
t_container_start "$cg"
holder=$T_HOLDER
nsenter -t "$holder" -m -- mount --bind /usr "$root/usr"
mkdir -p "$d/ct"
t_container_run "$holder" "$cg" "$T_COLLECTOR" --compress 0 --dir "$d/ct" 2>"$d/ct.log" &
t_track_pid $!
t_wait_for 10 grep -qs "listening on" "$d/ct.log"

out=$(t_container_run "$holder" "$cg" chroot "$root" /bin/cdp-crasher --name ct-chrooted)
ev=$(t_event "$d" ct-chrooted)
t_is "$(t_jq "$ev" .outcome)" delivered "container, chrooted: delivered"
id=$(t_jq "$ev" .id)
t_wait_for 5 test -f "$d/ct/$id.json"
t_is "$(jq -r .exe "$d/ct/$id.json")" /bin/cdp-crasher "collector metadata: exe inside the task's root"
t_is "$(jq -r 'has("host_exe")' "$d/ct/$id.json")" false "collector metadata: no host path unless exposed"

out=$(t_container_run "$holder" "$cg" chroot "$root" /bin/cdp-crasher --name ct-exposed)
ev=$(t_event "$d" ct-exposed)
id=$(t_jq "$ev" .id)
t_wait_for 5 test -f "$d/ct/$id.json"
t_is "$(jq -r .host_exe "$d/ct/$id.json")" "$root/bin/cdp-crasher" "expose_host: host_exe reaches the collector"

t_ok "the daemon stops" t_proxy_stop
t_done
