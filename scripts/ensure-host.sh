#!/usr/bin/env bash
# Installs and starts what demo-launcher needs on a Debian/Ubuntu host (idempotent, fast when present).
# Usage: scripts/ensure-host.sh [--browser]   (--browser adds what only the tests need: chromium, prometheus, docker-registry, openssl, bind9, pebble, lintian)
set -euo pipefail

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "ensure-host: unknown option '$arg' (allowed: --browser)" >&2; exit 2 ;;
  esac
done

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
# dockerd, not the docker client: some images ship the client alone.
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x httpd >/dev/null && file -L /bin/busybox 2>/dev/null | grep static >/dev/null || missing+=(busybox-static)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# git (with git daemon) for previews built from git, and their tests.
command -v git >/dev/null 2>&1 && [ -x "$(git --exec-path 2>/dev/null)/git-daemon" ] || missing+=(git)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# `ip` gives the fault suite's own dockerd a network namespace of its own.
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
# iptables-restore holds what demos may reach (docker.io pulls it in; named for hosts that have dockerd already).
command -v iptables-restore >/dev/null 2>&1 || missing+=(iptables)
# nsupdate (RFC 2136 with TSIG) and dig: how the controller puts an ACME DNS-01 record into the operator's DNS and sees it.
command -v nsupdate >/dev/null 2>&1 && command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The tests' own Prometheus (a real scraper of /metrics) and promtool.
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  # The swarm tests' private registry (run by the tests on their own address, never as a service).
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  # The swarm tests' node API with mutual TLS (a CA and certificates made per run).
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # Compose v1 (Debian has no v2): the tests' oracle for Compose variable interpolation, never run against Docker.
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  # htpasswd (bcrypt) for the image-pull tests' registry that asks for a password.
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  # A real BIND for the DNS-01 tests (run by the tests on their own port, never as a service).
  [ -x /usr/sbin/named ] || missing+=(bind9)
  # Let's Encrypt's test server for the ACME tests (run by the tests on their own ports, never as a service).
  [ -x /usr/bin/pebble ] || missing+=(pebble)
  # The Debian package's build (dpkg-deb, strip) and its check (lintian).
  command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg-dev)
  command -v strip >/dev/null 2>&1 || missing+=(binutils)
  command -v lintian >/dev/null 2>&1 || missing+=(lintian)
fi
command -v file >/dev/null 2>&1 || missing=(file "${missing[@]}")

if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-host: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when they are absent or stale, to keep repeat runs fast.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    sudo_if_needed apt-get update -qq
  fi
  sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The distribution's nginx service is left alone: `up` and the tests start private instances.
# Installing docker-registry starts its service on :5000 where systemd runs: we caused it, so we stop it (the
# tests run their own registry on the swarm lab's address).
if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  sudo_if_needed systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
# The same for BIND's named on :53.
if [[ " ${missing[*]} " == *" bind9 "* ]] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  sudo_if_needed systemctl disable --now named >/dev/null 2>&1 || true
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-host: starting dockerd" >&2
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    sudo_if_needed systemctl start docker || true
  fi
  if ! docker info >/dev/null 2>&1; then
    mkdir -p /var/log
    sudo_if_needed sh -c 'nohup dockerd >/var/log/demo-launcher-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "ensure-host: dockerd did not answer; see /var/log/demo-launcher-dockerd.log" >&2; exit 1; }
fi
