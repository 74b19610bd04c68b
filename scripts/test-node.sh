#!/usr/bin/env bash
# `npm run test:node [-- 22 24]`: the unit and http tiers again on other Node.js major releases (official builds
# fetched from the npm registry by scripts/ensure-node.sh). Only the controller process differs between them, and
# those tiers hold all of its logic; the real edges run once, in `npm test`. Default: 22 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
for major in "${majors[@]}"; do
  bin="$(bash scripts/ensure-node.sh "$major")"
  echo "test-node: unit and http tiers on Node.js $("$bin/node" --version)" >&2
  PATH="$bin:$PATH" npx vitest run --project unit --project http
done
