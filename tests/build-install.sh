#!/bin/bash
# What `make install` puts on a node (issue 13): the programs, the helpers in
# libexecdir, the units (verified by systemd-analyze), sysctl.d and
# tmpfiles.d files, an example config that check-config accepts, the docs and
# the man pages, which render without a groff or man warning and list the
# options --help lists, the commands, and every key docs/config.md has;
# `make uninstall` takes all of it away again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
t_require_cmd groff man jq

t_tmpdir
dest=$T_TMP/dest
# A make of its own: not the jobserver of the `make check` that runs us.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install DESTDIR="$dest" >"$T_TMP/install.log" 2>&1
t_is "$?" 0 "make install DESTDIR=... succeeds"

# installed REGEX: the one installed file whose path below DESTDIR matches.
installed() { find "$dest" -type f | sed "s|^$dest||" | grep -E "$1\$"; }
one() { # one REGEX [test-flag]
	local n
	n=$(installed "$1" | wc -l)
	t_is "$n" 1 "installed once: $1"
	[ -z "${2:-}" ] || t_ok "$1 is $2" test "$2" "$dest$(installed "$1")"
}
one '/bin/coredump-proxy' -x
one '/bin/coredump-collector' -x
one '/libexec/coredump-proxy/coredump-proxy-hook' -x
one '/libexec/coredump-proxy/coredump-proxy-pipe' -x
one '/systemd/system/coredump-proxy\.socket'
one '/systemd/system/coredump-proxy\.service'
one '/systemd/system/coredump-proxy-pattern\.service'
one '/sysctl\.d/50-coredump-proxy\.conf'
one '/tmpfiles\.d/coredump-proxy\.conf'
one '/doc/coredump-proxy/README\.md'
one '/doc/coredump-proxy/config\.md'
one '/doc/coredump-proxy/install\.md'
one '/doc/coredump-proxy/collector-protocol\.md'
one '/doc/coredump-proxy/examples/config\.json'
one '/man8/coredump-proxy\.8'
one '/man8/coredump-collector\.8'
one '/man5/coredump-proxy\.json\.5'
one '/man7/coredump-proxy-protocol\.7'

proxy=$dest$(installed '/bin/coredump-proxy')
units=$(dirname "$dest$(installed '/systemd/system/coredump-proxy\.socket')")
example=$dest$(installed '/examples/config\.json')

# ---- units
for u in coredump-proxy.service coredump-proxy-pattern.service; do
	for cmd in $(sed -n 's/^Exec\(Start\|Stop\)=\([^ ]*\).*/\2/p' "$units/$u"); do
		t_ok "$u runs the installed $cmd" test -x "$dest$cmd"
	done
done
t_is "$(sed -n 's/^ListenStream=//p' "$units/coredump-proxy.socket")" "$(jq -r .listen.path "$example")" \
	"the socket unit listens where the example config says"
t_is "$(sed -n 's/^ListenStream=//p' "$units/coredump-proxy.socket")" \
	"$(sed -n 's/^#define CONFIG_DEFAULT_LISTEN *"\(.*\)"$/\1/p' "$top_srcdir/config/config.h")" \
	"... and where the embedded default does"
for u in coredump-proxy.socket coredump-proxy.service coredump-proxy-pattern.service; do
	t_like "$(grep '^Conflicts=' "$units/$u")" "systemd-coredump.socket systemd-coredumpd.service systemd-coredump-register.service" \
		"$u conflicts with systemd's coredump units"
done
t_like "$(cat "$units/coredump-proxy.service")" "Type=notify" "the service is Type=notify"
t_like "$(cat "$units/coredump-proxy.service")" "NotifyAccess=all" "... and hears the keeper's child"
t_ok "the service does not install the pattern itself" test "$(grep -c -- '--install-pattern' <(grep ^Exec "$units/coredump-proxy.service"))" -eq 0
if command -v systemd-analyze >/dev/null; then
	# The units as installed, but naming the programs where DESTDIR has them.
	mkdir "$T_TMP/verify"
	for u in "$units"/*; do
		sed "s|^\(Exec[A-Za-z]*=\)/|\1$dest/|" "$u" >"$T_TMP/verify/$(basename "$u")"
	done
	sed -i "s|$dest/bin/kill|/bin/kill|" "$T_TMP/verify/coredump-proxy.service"
	out=$(cd "$T_TMP/verify" && systemd-analyze verify --man=no coredump-proxy.socket coredump-proxy.service \
		coredump-proxy-pattern.service 2>&1)
	t_is "$?" 0 "systemd-analyze verify accepts the units"
	t_is "$out" "" "... without a warning"
else
	t_diag "no systemd-analyze: units not verified"
fi

# ---- the example config
t_ok "check-config accepts the example config" "$proxy" check-config "$example"

# ---- man pages
for p in man8/coredump-proxy.8 man8/coredump-collector.8 man5/coredump-proxy.json.5 man7/coredump-proxy-protocol.7; do
	f=$dest$(installed "/$p")
	t_is "$(groff -man -ww -z "$f" 2>&1)" "" "$p: groff -ww has no warning"
	t_is "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)" "" "$p: man --warnings has none"
	t_ok "$p: renders" test "$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)" -gt 20
done

# options OUTPUT: the long options named in it, one a line.
options() { grep -oE -- '(^|[^a-z-])--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | grep -vxE -- '--(help|version)' | sort -u; }
# In a man page: the options its synopsis and OPTIONS section name (lines that start with one).
man_options() { grep -E '^\.(OP|B|BI|BR) \\-\\-' "$1" | sed 's/\\-/-/g' | options; }
t_is "$(man_options "$dest$(installed /man8/coredump-proxy.8)")" "$("$proxy" --help | options)" \
	"coredump-proxy(8) lists the options --help lists"
t_is "$(man_options "$dest$(installed /man8/coredump-collector.8)")" \
	"$("$dest$(installed /bin/coredump-collector)" --help | options)" \
	"coredump-collector(8) lists the options --help lists"
for verb in $("$proxy" --help | sed -n 's/^  coredump-proxy \([a-z-]*\) .*/\1/p'); do
	t_ok "coredump-proxy(8) explains $verb" grep -q "^\.B.* $(printf '%s' "$verb" | sed 's/-/\\\\-/g')" \
		"$dest$(installed /man8/coredump-proxy.8)"
done
# Every key of docs/config.md: the ### headings and the first column of its tables.
keys=$( (sed -n 's/^###* `\([a-z_.]*\)`$/\1/p' "$top_srcdir/docs/config.md"
	sed -n '/^## Keys/,/^## Error/p' "$top_srcdir/docs/config.md" | sed -n 's/^| `\([a-z_.]*\)` |.*/\1/p') | sort -u)
missing=
for k in $keys; do
	grep -qx "\.B $k" "$dest$(installed /man5/coredump-proxy.json.5)" || missing="$missing $k"
done
t_ok "docs/config.md has keys to compare ($(echo $keys | wc -w))" test "$(echo $keys | wc -w)" -gt 40
t_is "$missing" "" "coredump-proxy.json(5) has every key docs/config.md has"

# ---- uninstall
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" uninstall DESTDIR="$dest" >"$T_TMP/uninstall.log" 2>&1
t_is "$?" 0 "make uninstall succeeds"
t_is "$(find "$dest" -type f | sed "s|^$dest||")" "" "... and leaves no file"
t_done
