// Who holds a namespace: each controller leaves a lease record (renewed while it runs) where every other controller
// on the same Docker host or swarm can read it; a second controller for a held namespace refuses to start.
import { formatDuration } from "../duration.js";

export interface LeaseRecord {
  /** The object that carries it (a volume's or a swarm config's name). */
  id: string;
  namespace: string;
  /** This controller process, once: `<hostname>:<pid>:<random>`. */
  holder: string;
  /** The controller's own URL. */
  address: string;
  /** The config file it runs with. */
  config: string;
  hostname: string;
  pid: number;
  since: number;
  renewedAt: number;
}

export type LeaseDecision =
  /** Nobody else holds it; `stale` are records of holders that are gone or lapsed (removed when taking over). */
  | { kind: "free"; stale: LeaseRecord[] }
  | { kind: "held"; by: LeaseRecord };

/**
 * Decides from the records of one namespace. `gone(record)` says a holder is known to have ended (its process no
 * longer runs on this host); otherwise a holder holds until its last renewal is `leaseMs` old.
 */
export function decideLease(records: readonly LeaseRecord[], me: string, now: number, leaseMs: number, gone: (record: LeaseRecord) => boolean): LeaseDecision {
  const others = newestPerHolder(records.filter((record) => record.holder !== me));
  const live = others.filter((record) => now - record.renewedAt < leaseMs && !gone(record));
  const first = earliest(live);
  if (first) return { kind: "held", by: first };
  return { kind: "free", stale: records.filter((record) => record.holder !== me) };
}

/**
 * Two controllers that started at the same moment both wrote a record: of the live ones, the earliest `since`
 * (then the smaller holder) keeps the namespace and the other withdraws. Undefined when none is live.
 */
export function leaseWinner(records: readonly LeaseRecord[], now: number, leaseMs: number, gone: (record: LeaseRecord) => boolean): LeaseRecord | undefined {
  return earliest(newestPerHolder(records).filter((record) => now - record.renewedAt < leaseMs && !gone(record)));
}

/** The one line a refused controller prints. */
export function heldReason(by: LeaseRecord, now: number): string {
  return `namespace "${by.namespace}" is held by the controller at ${by.address} (config ${by.config}, host ${by.hostname}, pid ${by.pid}) since ${new Date(by.since).toISOString()}, renewed ${formatDuration(Math.max(0, now - by.renewedAt))} ago; stop that one first, or give this config a namespace of its own (namespace: in the config)`;
}

function newestPerHolder(records: readonly LeaseRecord[]): LeaseRecord[] {
  const newest = new Map<string, LeaseRecord>();
  for (const record of records) {
    const seen = newest.get(record.holder);
    if (!seen || record.renewedAt > seen.renewedAt) newest.set(record.holder, record);
  }
  return [...newest.values()];
}

function earliest(records: readonly LeaseRecord[]): LeaseRecord | undefined {
  return [...records].sort((a, b) => a.since - b.since || a.holder.localeCompare(b.holder))[0];
}
