// The namespace lease on Docker: each record is a labelled volume (on one host) or swarm config (on a swarm, seen
// by every manager), written anew on every renewal since neither can change its labels; the older ones go.
import { randomBytes } from "node:crypto";
import os from "node:os";
import type Docker from "dockerode";
import { decideLease, heldReason, leaseWinner, type LeaseRecord } from "../core/state/namespace-lease.js";
import type { Scheduler, Cancel } from "../core/scheduler.js";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";

const LABEL = "demo-launcher.lease";
/** A holder that stopped renewing for this long has lapsed: another controller may take its namespace. */
export const LEASE_MS = 30_000;

/** A second controller for a namespace someone holds: the message is the one line the CLI prints. */
export class NamespaceHeldError extends Error {
  constructor(readonly holder: LeaseRecord, now: number) {
    super(heldReason(holder, now));
    this.name = "NamespaceHeldError";
  }
}

/** Where lease records live: volumes on one Docker host, configs on a swarm (cluster-wide). */
export class LeaseStore {
  constructor(private readonly docker: Docker, private readonly swarm: boolean) {}

  /** Every lease record on this host or swarm (of one namespace, when named). */
  async list(namespace?: string): Promise<LeaseRecord[]> {
    const filters = { label: [namespace === undefined ? LABEL : `${LABEL}=${namespace}`] };
    const labelled: Array<{ name: string; labels: Record<string, string> }> = this.swarm
      ? ((await this.docker.listConfigs({ filters })) as Array<{ Spec?: { Name?: string; Labels?: Record<string, string> } }>).map((config) => ({ name: config.Spec?.Name ?? "", labels: config.Spec?.Labels ?? {} }))
      : ((await this.docker.listVolumes({ filters })).Volumes ?? []).map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
    return labelled.flatMap(({ name, labels }) => {
      const record = fromLabels(name, labels);
      return record ? [record] : [];
    });
  }

  async write(record: LeaseRecord): Promise<void> {
    const labels = toLabels(record);
    if (this.swarm) await this.docker.createConfig({ Name: record.id, Labels: labels, Data: Buffer.from(record.holder).toString("base64") });
    else await this.docker.createVolume({ Name: record.id, Labels: labels });
  }

  async remove(record: LeaseRecord): Promise<void> {
    try {
      if (this.swarm) await this.docker.getConfig(record.id).remove();
      else await this.docker.getVolume(record.id).remove();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }
}

export interface LeaseOptions {
  namespace: string;
  /** The controller's URL and config file, for the message another controller prints. */
  address: string;
  config: string;
  scheduler: Scheduler;
  logger: Logger;
}

/**
 * Takes the namespace (or throws NamespaceHeldError) and renews it every third of the lease until released. A
 * record of a process that no longer runs on this host has lapsed at once, so a restart after `kill -9` starts.
 * One process runs one controller: a record of this very process is an earlier controller of it (tests restart one).
 */
export class NamespaceLease {
  private record: LeaseRecord;
  private stopRenewing: Cancel = () => {};

  private constructor(private readonly store: LeaseStore, private readonly options: LeaseOptions, now: number) {
    const hostname = os.hostname();
    const holder = `${hostname}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.record = { id: "", namespace: options.namespace, holder, address: options.address, config: options.config, hostname, pid: process.pid, since: now, renewedAt: now };
  }

  static async acquire(store: LeaseStore, options: LeaseOptions): Promise<NamespaceLease> {
    const lease = new NamespaceLease(store, options, options.scheduler.now());
    await lease.take();
    lease.stopRenewing = options.scheduler.every(LEASE_MS / 3, () => lease.renew());
    return lease;
  }

  /** Removes this controller's records: the namespace is free at once. */
  async release(): Promise<void> {
    this.stopRenewing();
    for (const record of await this.store.list(this.options.namespace).catch(() => [])) {
      if (record.holder === this.record.holder) await this.store.remove(record).catch(() => {});
    }
  }

  private async take(): Promise<void> {
    const now = this.options.scheduler.now();
    const decision = decideLease(await this.store.list(this.options.namespace), this.record.holder, now, LEASE_MS, gone);
    if (decision.kind === "held") throw new NamespaceHeldError(decision.by, now);
    for (const stale of decision.stale) {
      this.options.logger.warn(`namespace ${this.options.namespace}: taking over from the controller at ${stale.address} (pid ${stale.pid} on ${stale.hostname}), which stopped renewing its lease`);
      await this.store.remove(stale);
    }
    await this.write(now);
    // Two controllers starting at once both wrote: the earlier one keeps the namespace.
    const winner = leaseWinner(await this.store.list(this.options.namespace), now, LEASE_MS, gone);
    if (winner && winner.holder !== this.record.holder) {
      await this.release();
      throw new NamespaceHeldError(winner, now);
    }
  }

  private async renew(): Promise<void> {
    const previous = this.record.id;
    try {
      await this.write(this.options.scheduler.now());
      for (const record of await this.store.list(this.options.namespace)) {
        if (record.holder === this.record.holder && record.id !== this.record.id) await this.store.remove(record);
      }
    } catch (error) {
      this.options.logger.warn(`namespace ${this.options.namespace}: renewing the lease failed (${describeError(error)}); trying again (last renewed as ${previous})`);
    }
  }

  private async write(now: number): Promise<void> {
    // A swarm config's name may have 64 characters: 9 + a namespace (31 at most) + 1 + 8 + 1 + 9.
    const record = { ...this.record, renewedAt: now, id: `dl-lease-${this.options.namespace}-${this.record.holder.split(":").at(-1)}-${now.toString(36)}` };
    await this.store.write(record);
    this.record = record;
  }
}

/** A holder on this host whose process ended, or this very process (an earlier controller of it). */
function gone(record: LeaseRecord): boolean {
  if (record.hostname !== os.hostname()) return false;
  if (record.pid === process.pid) return true;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function toLabels(record: LeaseRecord): Record<string, string> {
  return { [LABEL]: record.namespace, [`${LABEL}.holder`]: record.holder, [`${LABEL}.address`]: record.address, [`${LABEL}.config`]: record.config, [`${LABEL}.hostname`]: record.hostname, [`${LABEL}.pid`]: String(record.pid), [`${LABEL}.since`]: new Date(record.since).toISOString(), [`${LABEL}.renewed-at`]: new Date(record.renewedAt).toISOString() };
}

function fromLabels(id: string, labels: Record<string, string>): LeaseRecord | undefined {
  const get = (key: string) => labels[`${LABEL}.${key}`];
  const since = Date.parse(get("since") ?? "");
  const renewedAt = Date.parse(get("renewed-at") ?? "");
  const namespace = labels[LABEL];
  const holder = get("holder");
  if (!namespace || !holder || Number.isNaN(since) || Number.isNaN(renewedAt)) return undefined;
  return { id, namespace, holder, address: get("address") ?? "?", config: get("config") ?? "?", hostname: get("hostname") ?? "?", pid: Number(get("pid") ?? 0), since, renewedAt };
}
