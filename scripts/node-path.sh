#!/usr/bin/env bash
# Sourced by the npm scripts: when this host's Node.js is older than 22 (Debian's is 18, a stale image's 20), the
# active LTS (26, the official build from the npm registry, fetched once by ensure-node.sh) goes first on PATH, so
# npm, the build, the controller and every test worker run on a maintained release.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 22 ]; then
  PATH="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh" 26):$PATH"
  export PATH
fi
