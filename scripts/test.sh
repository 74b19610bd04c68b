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
  if [ "$tier" = system ]; then
    # The swarm lab beside the other system files (vitest.config.ts says why), its output after theirs.
    swarm_log=$(mktemp)
    npx vitest run --project system-swarm >"$swarm_log" 2>&1 &
    swarm_lane=$!
    system_status=0
    npx vitest run "${projects[@]}" || system_status=$?
    swarm_status=0
    wait "$swarm_lane" || swarm_status=$?
    echo "test: the swarm lab (system-swarm), run beside the system tier:" >&2
    cat "$swarm_log"
    rm -f "$swarm_log"
    if [ "$system_status" -ne 0 ] || [ "$swarm_status" -ne 0 ]; then
      echo "test: system tier failed (system: exit $system_status, system-swarm: exit $swarm_status)" >&2
      exit 1
    fi
  else
    npx vitest run "${projects[@]}"
  fi
  summary+=("${tier// /+} $(( $(date +%s) - started )) s")
done
echo "test: tiers passed: ${summary[*]}" >&2
