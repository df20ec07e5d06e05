#!/bin/bash
# Every C file is formatted as the checked-in .clang-format says (CI fails on a
# file that is not), with Debian's clang-format, which tests/run installs.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh" || exit 99
command -v clang-format >/dev/null || t_skip_all "needs clang-format (contrib/install-deps --tests installs it)"
cd "$top_srcdir" || exit 99

if [ -d .git ] && command -v git >/dev/null; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find kernel config proxy tests -name '*.[ch]' | sort)
fi
t_ok "there are sources to check" test "${#files[@]}" -gt 50
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
t_is "${bad[*]}" "" "every source is formatted (clang-format -i the ones listed)"
t_done
