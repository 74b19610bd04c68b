#!/usr/bin/env bash
# Builds the example apps on real databases (examples/wordpress, examples/notes-postgres) FROM the local Debian
# base image; Docker's build cache makes a second run take seconds. Usage: scripts/ensure-example-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-base-image.sh
for example in wordpress notes-postgres; do
  image="demo-launcher-example/${example}:latest"
  started=$(date +%s)
  if ! log="$(docker build -q -t "$image" "examples/$example" 2>&1)"; then
    echo "$log" | tail -30 >&2
    echo "ensure-example-images: building $image failed" >&2
    exit 1
  fi
  echo "ensure-example-images: $image is ready ($(( $(date +%s) - started )) s)" >&2
done
