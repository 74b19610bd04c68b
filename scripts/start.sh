#!/usr/bin/env bash
# `npm start`: installs what is missing on this host, builds, and runs `demo-launcher up` on demo.localhost:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-path.sh
bash scripts/ensure-host.sh
bash scripts/ensure-build.sh
exec node dist/cli/main.js up "$@"
