#!/usr/bin/env bash
# `npm test`: makes sure Docker and nginx are here (installing them when missing), builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-host.sh --browser
bash scripts/ensure-build.sh
# Tests and the benchmark are type-checked too: the build covers src/ only.
npx tsc -p tsconfig.check.json
exec npx vitest run "$@"
