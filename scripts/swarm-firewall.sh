#!/usr/bin/env bash
# Run on every swarm node that runs demos: their published ports answer nginx's address(es) only.
# Usage: scripts/swarm-firewall.sh <nginx-address>[,<address>…] [<from>:<to>]   (ports: the config's ports range, default 20000:29999)
#        scripts/swarm-firewall.sh --check <nginx-address>[,…] [<from>:<to>]   (exit 1 when the rules are not in place)
# Demos publish their port on their node in host mode (Swarm's routing mesh is not used), so without this any
# machine that reaches the node reaches every demo on it. The rules live in Docker's DOCKER-USER chain, which
# Docker leaves alone, and a chain of our own; running the script again replaces them (idempotent).
set -euo pipefail

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
allowed="${1:?usage: swarm-firewall.sh [--check] <nginx-address>[,<address>…] [<from>:<to>]}"
range="${2:-20000:29999}"
[[ "$range" =~ ^[0-9]+:[0-9]+$ ]] || { echo "swarm-firewall: the port range must look like 20000:29999, not '$range'" >&2; exit 2; }
chain=DEMO-LAUNCHER-DEMOS
# Matched after Docker's DNAT: the port the client asked for is the connection's original destination port.
jump=(-p tcp -m conntrack --ctstate NEW --ctorigdstport "$range" -j "$chain")

if [ "$check" = 1 ]; then
  iptables -C DOCKER-USER "${jump[@]}" 2>/dev/null || { echo "swarm-firewall: DOCKER-USER does not send new connections to ports $range through $chain" >&2; exit 1; }
  for address in ${allowed//,/ }; do
    iptables -C "$chain" -s "$address" -j RETURN 2>/dev/null || { echo "swarm-firewall: $chain does not let $address in" >&2; exit 1; }
  done
  iptables -C "$chain" -j DROP 2>/dev/null || { echo "swarm-firewall: $chain does not drop the rest" >&2; exit 1; }
  echo "swarm-firewall: ports $range answer only ${allowed}"
  exit 0
fi

iptables -N DOCKER-USER 2>/dev/null || true
iptables -N "$chain" 2>/dev/null || iptables -F "$chain"
for address in ${allowed//,/ }; do iptables -A "$chain" -s "$address" -j RETURN; done
iptables -A "$chain" -j DROP
while iptables -D DOCKER-USER "${jump[@]}" 2>/dev/null; do :; done
iptables -I DOCKER-USER "${jump[@]}"
echo "swarm-firewall: ports $range on this node now answer only ${allowed}"
