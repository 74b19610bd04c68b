#!/usr/bin/env bash
# Installs npm dependencies when the lockfile changed and rebuilds dist/ when the sources did.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step says what it does first: a first start spends a while here, and silence looks like a hang.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "demo-launcher: installing npm dependencies (npm ci; once, or when package-lock.json changes)..." >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f dist/cli/main.js ] || [ -n "$(find src tsconfig.json -newer dist/cli/main.js -print -quit)" ]; then
  echo "demo-launcher: building (TypeScript to dist/; once, or when src/ changes)..." >&2
  npm run --silent build
  chmod +x dist/cli/main.js
fi
