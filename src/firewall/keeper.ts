// Keeps the demo and build bridges' egress rules in place: applied at start, checked every 30 s, put back when they drift.
import type Docker from "dockerode";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { applyFirewall, checkFirewall, type BridgePolicy } from "./iptables.js";
import { readFile } from "node:fs/promises";
import { describeEgress, egressNetworkName, environmentBridgePrefix, resolverAddresses, type Egress } from "./rules.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const CHECK_EVERY_MS = 30_000;

/** The Linux interface of a Docker bridge network: the name it was given, or Docker's `br-<id>`. */
export async function bridgeOf(docker: Docker, network: string): Promise<string> {
  const info = (await docker.getNetwork(network).inspect()) as { Id: string; Driver: string; Options?: Record<string, string> };
  if (info.Driver !== "bridge") throw new Error(`network ${network} is a ${info.Driver} network, not a bridge: its egress cannot be held by the host's rules`);
  return info.Options?.["com.docker.network.bridge.name"] ?? `br-${info.Id.slice(0, 12)}`;
}

/** One network per distinct policy among the apps and preview sources; `internet` (the configured network) always. */
export function egressNetworks(base: string, policies: Iterable<Egress | undefined>): Array<{ network: string; egress: Egress }> {
  const byNetwork = new Map<string, Egress>([[base, "internet"]]);
  for (const egress of policies) if (egress) byNetwork.set(egressNetworkName(base, egress), egress);
  return [...byNetwork].map(([network, egress]) => ({ network, egress }));
}

/** The host's resolvers as Docker passes them on (read again at every check: DHCP may change them). */
export async function hostResolvers(): Promise<string[]> {
  const own = resolverAddresses(await readFile("/etc/resolv.conf", "utf8").catch(() => ""));
  // Only loopback (systemd-resolved's stub): Docker uses the upstream list systemd-resolved keeps.
  return own.length > 0 ? own : resolverAddresses(await readFile("/run/systemd/resolve/resolv.conf", "utf8").catch(() => ""));
}

/** A network whose bridge is known without asking Docker: an interface pattern for every environment of a policy. */
export interface GuardedNetwork {
  network: string;
  egress: Egress;
  bridge?: string;
}

export async function bridgePolicies(docker: Docker, networks: ReadonlyArray<GuardedNetwork>): Promise<BridgePolicy[]> {
  const resolvers = await hostResolvers();
  return Promise.all(networks.map(async ({ network, egress, bridge }) => ({ network, egress, resolvers, bridge: bridge ?? (await bridgeOf(docker, network)) })));
}

/** The bridges of environments (apps with a Compose file), one interface pattern per egress policy among them. */
export function environmentNetworks(policies: Iterable<Egress | undefined>): GuardedNetwork[] {
  const byBridge = new Map<string, GuardedNetwork>();
  for (const egress of policies) {
    const policy = egress ?? "internet";
    const bridge = `${environmentBridgePrefix(policy)}+`;
    byBridge.set(bridge, { network: `environments (${describeEgress(policy)})`, egress: policy, bridge });
  }
  return [...byBridge.values()];
}

export class FirewallKeeper {
  private timer: Cancel | undefined;

  constructor(private readonly docker: Docker, private readonly networks: ReadonlyArray<GuardedNetwork>, private readonly logger: Logger, private readonly scheduler: Scheduler = systemScheduler) {}

  async start(): Promise<void> {
    // iptables needs root (CAP_NET_ADMIN): without it the operator runs `demo-launcher firewall` as root (the unit's ExecStartPre does).
    if (process.getuid?.() !== 0) {
      this.logger.info("firewall: not running as root, so the demo egress rules are applied by `demo-launcher firewall` as root (the systemd unit's ExecStartPre) and checked by `sudo demo-launcher doctor`");
      return;
    }
    await this.keep(true);
    this.timer = this.scheduler.every(CHECK_EVERY_MS, () => this.keep(false));
  }

  stop(): void {
    this.timer?.();
  }

  /** Applies when asked or when a check finds drift (a Docker restart with a fresh data root makes new bridges). */
  private async keep(first: boolean): Promise<void> {
    try {
      const bridges = await bridgePolicies(this.docker, this.networks);
      const before = first ? undefined : await checkFirewall(bridges);
      if (before && !before.ok) this.logger.warn(`firewall: demo rules drifted (${before.problems.join("; ")}); putting them back`);
      if (before?.ok) return;
      await applyFirewall(bridges);
      if (first) this.logger.info(`firewall: demo egress held on ${bridges.map((entry) => `${entry.bridge} (${describeEgress(entry.egress)})`).join(", ")}`);
      // What iptables holds after the apply, read back: a rule it rewrote differently is said now, not in 30 s.
      const after = await checkFirewall(bridges);
      if (!after.ok) this.logger.error(`firewall: the demo rules do not read back as applied: ${after.problems.join("; ")}`);
    } catch (error) {
      this.logger.error(`firewall: ${describeError(error)}`);
    }
  }
}
