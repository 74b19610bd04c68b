#!/usr/bin/env bash
# `npm run bench [-- --quick]`: the benchmark on real Docker and nginx (installs them when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-path.sh
bash scripts/ensure-host.sh --browser
bash scripts/ensure-build.sh
exec npx tsx bench/run.ts "$@"
