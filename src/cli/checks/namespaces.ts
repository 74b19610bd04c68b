// doctor's list of every namespace in use on this Docker host (or swarm): its containers, and the controller that holds it.
import type Docker from "dockerode";
import { configPath, type Config } from "../../config/load.js";
import { LABEL_PREFIX } from "../../core/model.js";
import type { LeaseRecord } from "../../core/state/namespace-lease.js";
import { LEASE_MS, LeaseStore } from "../../docker/namespace-lease.js";
import type { Check } from "./host.js";

/** One line a namespace, this config's first; a namespace held by a controller of another config is a warning. */
export async function namespaceChecks(config: Config, docker: Docker, now: number): Promise<Check[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PREFIX}namespace`] } });
  const counts = new Map<string, number>();
  for (const container of containers) {
    const namespace = container.Labels[`${LABEL_PREFIX}namespace`]!;
    counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
  }
  const holders = new Map<string, LeaseRecord>();
  for (const record of await new LeaseStore(docker, config.runtime === "swarm").list()) {
    const seen = holders.get(record.namespace);
    if (now - record.renewedAt < LEASE_MS && (!seen || record.renewedAt > seen.renewedAt)) holders.set(record.namespace, record);
  }
  const names = [...new Set([config.namespace, ...counts.keys(), ...holders.keys()])].sort((a, b) => Number(b === config.namespace) - Number(a === config.namespace) || a.localeCompare(b));
  return names.map((namespace) => {
    const holder = holders.get(namespace);
    const count = counts.get(namespace) ?? 0;
    const mine = namespace === config.namespace;
    const held = holder ? `held by the controller at ${holder.address} (config ${holder.config}, pid ${holder.pid} on ${holder.hostname})` : "no controller holds it";
    const ok: Check["ok"] = mine && holder && holder.config !== configPath(config) ? "warn" : true;
    return { name: "namespace", ok, detail: `${namespace}${mine ? " (this config's)" : ""}: ${count} container(s), ${held}` };
  });
}
