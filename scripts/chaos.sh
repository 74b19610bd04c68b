#!/usr/bin/env bash
# `npm run chaos [-- --quick] [-- --only=kill,replace,docker,watcher,apps,state,input,builds,builds-docker,rewinds,tenant]`: the fault suite on real Docker and nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-path.sh
bash scripts/ensure-host.sh
bash scripts/ensure-build.sh
exec npx tsx test/chaos/run.ts "$@"
