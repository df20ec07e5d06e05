#!/bin/bash
# A takeover adopts the pattern another coredump-proxy saved beside its socket
# (issue 14): that file goes back into core_pattern, where "|..." runs as
# root. It is adopted only from a directory only root can write to; from one
# others may write (here 0777) the saved file is ignored, and the pattern in
# force is what the daemon restores.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_require_cmd jq
t_core_pattern_save

t_tmpdir
d=$T_TMP
mkdir -p "$d/open" "$d/a"
chmod 0777 "$d/open"
# What a root-owned saved file there would make the next stop write into core_pattern.
printf '|/bin/false cdp-adopt-planted %%p\n' >"$d/open/kernel.sock.previous-pattern"
chmod 0600 "$d/open/kernel.sock.previous-pattern"
foreign="@@$d/open/kernel.sock"
t_core_pattern_set "$foreign"

t_proxy_config "$d/a" request '[{"name":"host","match":{},"action":"store"}]'
t_ok "an instance starts" t_proxy_start "$d/a"
t_is "$(cat "$d/a/kernel.sock.previous-pattern")" "$foreign" \
	"the file in a directory others may write is not adopted: the pattern in force is saved"
t_ok "it stops" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "$foreign" "and restores the pattern that was in force"

chmod 0755 "$d/open"
t_core_pattern_set "$foreign"
t_ok "from a directory only root writes" t_proxy_start "$d/a"
t_is "$(cat "$d/a/kernel.sock.previous-pattern")" "|/bin/false cdp-adopt-planted %p" \
	"the saved pattern is adopted (a takeover)"
t_ok "it stops" t_proxy_stop
t_is "$(cat /proc/sys/kernel/core_pattern)" "|/bin/false cdp-adopt-planted %p" "and restores it"
t_done
