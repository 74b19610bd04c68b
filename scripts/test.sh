#!/usr/bin/env bash
# `npm test`: makes sure Docker and nginx are here (installing them when missing), builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-host.sh --browser
bash scripts/ensure-build.sh
exec npx vitest run "$@"
