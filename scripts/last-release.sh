#!/usr/bin/env bash
# Prints the last release as README.md names it ("Last release: **<version>**, commit `<sha>`"): `<version> <sha>`.
# The one reader of that line: package-deb.sh --previous (the upgrade test's start) and the benchmark's image baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
release="$(sed -n 's/^Last release: \*\*\([^*]*\)\*\*, commit `\([0-9a-f]\{7,40\}\)`.*/\1 \2/p' README.md)"
[ -n "$release" ] || { echo "last-release: README.md names no last release (a line 'Last release: **<version>**, commit \`<sha>\`')" >&2; exit 2; }
echo "$release"
