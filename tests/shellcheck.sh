#!/bin/bash
# The tree's lint: every shell script of the tree under shellcheck at warning
# level (settings in .shellcheckrc).  Scripts are the *.sh files and the
# files whose first line starts a shell; build outputs and caches are left
# out.  `make shellcheck` runs it; it is part of `make check`.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(
	find . \( -path ./build -o -path ./.cache -o -path ./.git -o -name 'build*' \) -prune -o \
		-type f -print | sed 's|^\./||' | sort |
		while read -r f; do
			case $f in
			*.sh) echo "$f" ;;
			*.c | *.h | *.md | *.mk | *.png | *.cfg) ;;
			*) head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*(/|env )(ba)?sh\b' && echo "$f" ;;
			esac
		done
)
echo "shellcheck: ${#files[@]} scripts"
shellcheck -S warning "${files[@]}"
echo "shellcheck: ok"
