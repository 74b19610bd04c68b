#!/usr/bin/env bash
# `npm run test:node [-- 22 24]`: the unit and http tiers again on other Node.js major releases (official builds
# fetched from the npm registry by scripts/ensure-node.sh). Only the controller process differs between them, and
# those tiers hold all of its logic; the real edges run once, in `npm test`. Default: 22 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
# The releases run side by side (these tiers have no clock or port of their own to share: in-memory edges, manual
# time), each writing to its own log, shown whole when it ends; any failure fails the run.
bins=()
for major in "${majors[@]}"; do bins+=("$(bash scripts/ensure-node.sh "$major")"); done
logs="$(mktemp -d)"
pids=()
for bin in "${bins[@]}"; do
  version="$("$bin/node" --version)"
  echo "test-node: unit and http tiers on Node.js $version" >&2
  (PATH="$bin:$PATH" npx vitest run --project unit --project http >"$logs/$version.log" 2>&1) &
  pids+=("$!:$version")
done
failed=0
for entry in "${pids[@]}"; do
  if ! wait "${entry%%:*}"; then failed=1; fi
  echo "test-node: Node.js ${entry#*:}:" >&2
  cat "$logs/${entry#*:}.log"
done
rm -rf "$logs"
exit "$failed"
