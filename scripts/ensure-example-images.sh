#!/usr/bin/env bash
# Builds the example apps on real databases (examples/wordpress, examples/notes-postgres, examples/compose-app) FROM the local Debian
# base image without Node.js; Docker's build cache makes a second run take seconds. Usage: scripts/ensure-example-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-base-image.sh demo-launcher-base/debian:bookworm
# name=folder: the compose-app example's services are images of their own.
for entry in wordpress=wordpress notes-postgres=notes-postgres compose-app=compose-app/app compose-db=compose-app/db compose-cache=compose-app/cache; do
  example="${entry%%=*}"
  image="demo-launcher-example/${example}:latest"
  started=$(date +%s)
  if ! log="$(docker build -q -t "$image" "examples/${entry#*=}" 2>&1)"; then
    echo "$log" | tail -30 >&2
    echo "ensure-example-images: building $image failed" >&2
    exit 1
  fi
  echo "ensure-example-images: $image is ready ($(( $(date +%s) - started )) s)" >&2
done
