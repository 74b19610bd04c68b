#!/usr/bin/env bash
# `npm run test:quick`: the unit and http tiers only (no Docker, nginx or browser; well under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-path.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
exec npx vitest run --project unit --project http "$@"
