#!/usr/bin/env bash
# `npm test`: makes sure Docker and nginx are here (installing them when missing), builds, then runs every tier in
# turn (unit, http, adapters, system, with the Debian package's tier beside the system tier; docs/contributing/testing.md)
# and says how long each took.
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
# The package tier runs in the background beside the system tier, from its first file, the swarm lab's: Debian
# containers of their own (apt, dpkg, one controller each, in a namespace, on a network and with firewall chains of
# their own), so neither waits on the other. It runs at a lower CPU priority (nice 10, its container commands too:
# DEMO_LAUNCHER_TEST_NICE), so it takes what the system tier leaves (at equal priority it made the system tier 90 s
# longer). Beside the swarm lab's file: a CPU profile of a whole run (perf, 2026-12-07) found the machine idle 41 % of
# that file's 290 s (its nodes wait on Swarm's dispatcher and the registry), and 2-7 % of the files after it while
# the package tier ran beside them (they took 30-50 s longer than alone). The .debs are built first, this
# checkout's and the last release's side by side, compressed fast (--fast: the same files; `npm run package:deb`
# makes the xz one).
# With DEMO_LAUNCHER_TEST_NODE_MAJORS (say "22 24", as .ci/run sets it), the unit and http tiers then run again on
# those Node.js releases (`npm run test:node`, one after the other, with the slow tiers' timeouts), in the same
# background line at the same priority: the system files after the package tier leave the machine idle 25-68 % of
# their time (waiting on timers of their scenarios: a demo's expiry, an idle stop), and these tiers keep no clock
# (fakes, manual time).
package_log="$(mktemp)"
start_package_tier() {
  (
    set -e
    renice -n 10 -p "$BASHPID" >/dev/null
    export DEMO_LAUNCHER_TEST_NICE=10
    package_started=$(date +%s)
    previous_log="$(mktemp)"
    bash scripts/package-deb.sh --previous --fast >"$previous_log" &
    DEMO_LAUNCHER_DEB="$(bash scripts/package-deb.sh --fast)"
    wait $! || { cat "$previous_log"; exit 1; }
    DEMO_LAUNCHER_PREVIOUS_DEB="$(tail -n 1 "$previous_log")"
    rm -f "$previous_log"
    export DEMO_LAUNCHER_DEB DEMO_LAUNCHER_PREVIOUS_DEB
    npx vitest run --project package
    echo "test: package tier $(( $(date +%s) - package_started )) s"
    if [ -n "${DEMO_LAUNCHER_TEST_NODE_MAJORS:-}" ]; then
      node_started=$(date +%s)
      # shellcheck disable=SC2086 # the majors are words
      bash scripts/test-node.sh $DEMO_LAUNCHER_TEST_NODE_MAJORS
      echo "test: Node.js $DEMO_LAUNCHER_TEST_NODE_MAJORS tiers $(( $(date +%s) - node_started )) s"
    fi
  ) >"$package_log" 2>&1 &
  package_pid=$!
}
for tier in "unit http" adapters adapters-serial system; do
  started=$(date +%s)
  projects=()
  for project in $tier; do projects+=(--project "$project"); done
  if [ "$tier" = system ]; then
    start_package_tier
    npx vitest run --project system test/system/swarm.test.ts
    npx vitest run --project system --exclude '**/swarm.test.ts'
  else
    npx vitest run "${projects[@]}"
  fi
  if [ -n "$typecheck" ]; then
    if ! wait "$typecheck"; then cat "$typecheck_log" >&2; echo "test: the type check failed" >&2; exit 1; fi
    typecheck=""
    rm -f "$typecheck_log"
  fi
  summary+=("${tier// /+} $(( $(date +%s) - started )) s")
done
package_ok=0
wait "$package_pid" || package_ok=$?
cat "$package_log" >&2
while IFS= read -r line; do summary+=("$line"); done < <(
  grep -o 'package tier [0-9]* s' "$package_log" | sed 's/ tier/ (beside system)/'
  grep -o 'Node.js [0-9 ]* tiers [0-9]* s' "$package_log" | sed 's/ tiers/ unit+http (beside system)/'
)
rm -f "$package_log"
if [ "$package_ok" != 0 ]; then echo "test: the package tier or the Node.js ${DEMO_LAUNCHER_TEST_NODE_MAJORS:-} tiers beside it failed" >&2; exit 1; fi
echo "test: tiers passed: ${summary[*]}" >&2
