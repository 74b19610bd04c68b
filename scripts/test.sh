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
if [ $# -gt 0 ]; then npx tsc -p tsconfig.check.json; exec npx vitest run "$@"; fi
echo "test: Node.js $(node --version)" >&2
# The type check runs beside the first tier (in-memory edges, manual time: nothing there waits on a clock), and is
# waited for before the tiers that start real processes.
typecheck_log="$(mktemp)"
npx tsc -p tsconfig.check.json >"$typecheck_log" 2>&1 &
typecheck=$!
summary=()
for tier in "unit http" adapters adapters-serial system; do
  started=$(date +%s)
  projects=()
  for project in $tier; do projects+=(--project "$project"); done
  npx vitest run "${projects[@]}"
  if [ -n "$typecheck" ]; then
    if ! wait "$typecheck"; then cat "$typecheck_log" >&2; echo "test: the type check failed" >&2; exit 1; fi
    typecheck=""
    rm -f "$typecheck_log"
  fi
  summary+=("${tier// /+} $(( $(date +%s) - started )) s")
done
echo "test: tiers passed: ${summary[*]}" >&2
