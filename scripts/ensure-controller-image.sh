#!/usr/bin/env bash
# Builds the controller's image from the Dockerfile here, on a Node.js base made locally (no registry has to be
# reachable): Debian bookworm from mmdebstrap (scripts/ensure-base-image.sh) with the official Node.js 26 build
# (scripts/ensure-node.sh) and npm 11, both from the npm registry (Debian's npm 9 predates Node.js 26). Elsewhere,
# `docker build .` uses the public node:26-bookworm-slim instead.
# Usage: scripts/ensure-controller-image.sh [tag]   (default demo-launcher/controller:local; prints the tag)
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-demo-launcher/controller:local}"
base=demo-launcher-base/node26:bookworm
# Docker's output (and its notice about the classic builder) only when a build fails.
quiet_build() {
  local output
  if ! output="$(docker build -q "$@" 2>&1)"; then echo "$output" >&2; echo "ensure-controller-image: docker build $* failed" >&2; exit 1; fi
}

if ! docker image inspect "$base" >/dev/null 2>&1; then
  bash scripts/ensure-base-image.sh >&2
  node_bin="$(bash scripts/ensure-node.sh 26)"
  context="$(mktemp -d)"
  trap 'rm -rf "$context"' EXIT
  cp "$node_bin/node" "$context/node"
  (cd "$context" && npm pack --silent npm@11 >/dev/null && mv npm-*.tgz npm.tgz)
  # npm 11 from the registry takes the place of Debian's; the official image's unprivileged `node` user (uid 1000) too.
  printf '%s\n' 'FROM demo-launcher-base/node:bookworm' 'COPY node /usr/local/bin/node' 'ADD npm.tgz /usr/local/lib/node_modules/' \
    'RUN mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm && ln -sf /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -sf /usr/local/lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx' \
    'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libatomic1 >/dev/null && rm -rf /var/lib/apt/lists/*' \
    'RUN node --version && npm --version && (id node >/dev/null 2>&1 || useradd --uid 1000 --create-home --shell /bin/sh node)' >"$context/Dockerfile"
  echo "ensure-controller-image: making $base" >&2
  quiet_build -t "$base" "$context"
fi
# Docker's layer cache keeps this quick when package-lock.json and src/ did not change.
quiet_build --build-arg "BASE=$base" -t "$tag" .
echo "$tag"
