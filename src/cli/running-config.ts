// Which config a command given no --config means: the controller running on this host says which file it runs
// (its namespace lease), so `ls` or `render` ask that controller instead of quietly using the embedded default.
import os from "node:os";
import type Docker from "dockerode";
import type { LeaseRecord } from "../core/state/namespace-lease.js";
import { LEASE_MS, LeaseStore } from "../docker/namespace-lease.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";

export type RunningChoice = { kind: "defaults" } | { kind: "file"; file: string; holder: LeaseRecord } | { kind: "several"; holders: LeaseRecord[] };

/**
 * The live leases of controllers on this machine decide: one of the embedded default (or none) → the default;
 * exactly one other → its file; several → the user must say which.
 */
export function chooseRunningConfig(records: readonly LeaseRecord[], now: number, hostname: string): RunningChoice {
  const live = records.filter((record) => record.hostname === hostname && now - record.renewedAt < LEASE_MS);
  if (live.length === 0 || live.some((record) => record.config === "defaults")) return { kind: "defaults" };
  const files = [...new Map(live.map((record) => [record.config, record])).values()];
  return files.length === 1 ? { kind: "file", file: files[0]!.config, holder: files[0]! } : { kind: "several", holders: files };
}

/** Asks Docker for the leases (in a second at most: no Docker, no controller running here). */
export async function runningConfig(docker: Docker, scheduler: Scheduler): Promise<RunningChoice> {
  let cancel: Cancel | undefined;
  const giveUp = new Promise<LeaseRecord[]>((resolve) => (cancel = scheduler.after(1000, () => resolve([]))));
  const records = await Promise.race([new LeaseStore(docker, false).list(), giveUp]).catch((): LeaseRecord[] => []);
  cancel?.();
  return chooseRunningConfig(records, scheduler.now(), os.hostname());
}
