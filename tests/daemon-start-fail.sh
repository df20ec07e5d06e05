#!/bin/bash
# A start that fails half-way is clean: the event log cannot be opened (its
# directory is a file). Issue 10: start() freed the config and then read the
# event log's path from it (a use-after-free: ASan reports it in the
# sanitizer build; elsewhere the message can name garbage). Now the daemon
# exits 1 naming the path, without a sanitizer report, and leaves
# core_pattern alone.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_socket_dumps
t_core_pattern_save

t_tmpdir
d=$T_TMP
touch "$d/notadir"
cat >"$d/config.json" <<JSON
{ "listen": { "path": "$d/kernel.sock" }, "events": "$d/notadir/events.jsonl",
  "store": { "directory": "$d/store" } }
JSON
before=$(cat /proc/sys/kernel/core_pattern)
timeout 20 "$T_PROXY" --config "$d/config.json" --install-pattern 2>"$d/err"
t_is "$?" 1 "a daemon whose event log cannot be opened exits 1"
t_ok "it names the event log" grep -qF "cannot open the event log $d/notadir/events.jsonl" "$d/err"
t_ok "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$d/err'"
t_is "$(cat /proc/sys/kernel/core_pattern)" "$before" "core_pattern is as it was"
t_ok "no socket left behind" test ! -e "$d/kernel.sock"
t_done
