#!/usr/bin/env bash
# Installs npm dependencies when the lockfile changed and rebuilds dist/ when the sources did.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f dist/cli/main.js ] || [ -n "$(find src tsconfig.json -newer dist/cli/main.js -print -quit)" ]; then
  npm run --silent build
  chmod +x dist/cli/main.js
fi
