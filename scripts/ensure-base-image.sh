#!/usr/bin/env bash
# Makes the Debian base images the examples build FROM, locally (no registry is needed): mmdebstrap of bookworm,
# imported into Docker. demo-launcher-base/node:bookworm has Node.js and npm (examples/node-app, the controller);
# demo-launcher-base/debian:bookworm has nothing more than certificates (the apps on databases: a third of the size,
# so a swarm moves them faster). Idempotent: an existing image is kept (seconds).
# Usage: scripts/ensure-base-image.sh [image]   (default demo-launcher-base/node:bookworm)
set -euo pipefail

image="${1:-demo-launcher-base/node:bookworm}"
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "ensure-base-image: installing mmdebstrap" >&2
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

hooks=()
# Certificates this host trusts on top of Debian's (a TLS-inspecting proxy's, say) are trusted inside too,
# so `npm ci` and `apt-get` in a build reach their registries the way the host does.
if [ -n "$(ls -A /usr/local/share/ca-certificates 2>/dev/null)" ]; then
  hooks+=(--customize-hook='copy-in /usr/local/share/ca-certificates /usr/local/share' --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1')
fi

echo "ensure-base-image: building $image with mmdebstrap (about a minute, once per machine)" >&2
log="$(mktemp)"
# Valid-Until is not checked: some mirrors serve snapshots whose Release files have expired.
packages=nodejs,npm,ca-certificates
case "$image" in demo-launcher-base/debian:*) packages=ca-certificates ;; esac
if ! sudo_if_needed mmdebstrap --variant=minbase --include="$packages" \
    --aptopt='Acquire::Check-Valid-Until "false"' "${hooks[@]}" bookworm - 2>"$log" \
  | docker import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null; then
  tail -20 "$log" >&2
  echo "ensure-base-image: mmdebstrap or docker import failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
echo "ensure-base-image: $image is ready" >&2
