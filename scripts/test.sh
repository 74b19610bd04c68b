#!/usr/bin/env bash
# `npm test`: makes sure Docker and nginx are here (installing them when missing), builds, then runs every tier in
# turn (unit, http, adapters, system; docs/contributing/testing.md) and says how long each took.
# `npm test -- <vitest arguments>` passes them to one vitest run instead (a file, `--project unit`, `-t name`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-path.sh
bash scripts/ensure-host.sh --browser
bash scripts/ensure-build.sh
# Tests and the benchmark are type-checked too: the build covers src/ only.
npx tsc -p tsconfig.check.json
if [ $# -gt 0 ]; then exec npx vitest run "$@"; fi
echo "test: Node.js $(node --version)" >&2
summary=()
for tier in "unit http" adapters adapters-serial system; do
  started=$(date +%s)
  projects=()
  for project in $tier; do projects+=(--project "$project"); done
  npx vitest run "${projects[@]}"
  summary+=("${tier// /+} $(( $(date +%s) - started )) s")
done
echo "test: tiers passed: ${summary[*]}" >&2
