#!/usr/bin/env bash
# `npm run test:node [-- 22 24]`: the whole test suite again on other Node.js major releases (official builds
# fetched from the npm registry by scripts/ensure-node.sh), one after another, each first on PATH so that every
# process the tests start (child controllers, the CLI, vitest's workers) runs on it. Default: 22 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
for major in "${majors[@]}"; do
  bin="$(bash scripts/ensure-node.sh "$major")"
  echo "test-node: the test suite on Node.js $("$bin/node" --version)" >&2
  PATH="$bin:$PATH" bash scripts/test.sh
done
