#!/usr/bin/env bash
# `npm run test:node [-- 22 24]`: the unit and http tiers again on other Node.js major releases (official builds
# fetched from the npm registry by scripts/ensure-node.sh). Only the controller process differs between them, and
# those tiers hold all of its logic; the real edges run once, in `npm test`. Default: 22 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
bins=()
for major in "${majors[@]}"; do bins+=("$(bash scripts/ensure-node.sh "$major")"); done
vitest_args=(--project unit --project http)
if [ -n "${DEMO_LAUNCHER_TEST_NICE:-}" ]; then
  # At a lower CPU priority beside the system tier (scripts/test.sh), these tiers get a tenth of a core while the
  # system tier keeps both busy: a test that takes 1 s alone took over 10 s there (CI, 2026-12-07). Their 10-s
  # timeouts only guard against a hang, so here they are the slow tiers' ones; and the releases run one after the
  # other, so they do not also crowd each other.
  vitest_args+=(--testTimeout=120000 --hookTimeout=180000)
  side_by_side=0
else
  side_by_side=1
fi
# Each release writes to its own log, shown whole when it ends; any failure fails the run. Alone, they run side by
# side (these tiers have no clock or port of their own to share: in-memory edges, manual time).
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
run_on() {
  local bin="$1" version
  version="$("$bin/node" --version)"
  echo "test-node: unit and http tiers on Node.js $version" >&2
  PATH="$bin:$PATH" npx vitest run "${vitest_args[@]}" >"$logs/$version.log" 2>&1 && echo ok >"$logs/$version.ok" || true
  echo "test-node: Node.js $version:" >&2
  cat "$logs/$version.log"
}
for bin in "${bins[@]}"; do
  if [ "$side_by_side" = 1 ]; then run_on "$bin" & else run_on "$bin"; fi
done
wait
[ "$(find "$logs" -name '*.ok' | wc -l)" -eq "${#bins[@]}" ]
