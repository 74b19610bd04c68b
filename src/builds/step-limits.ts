// What each step of a preview build runs in: its memory, CPUs, network and largest file, from the builds' settings.
import type { BuildLimits, ImageBuildRequest } from "./image-builder.js";

/** What each build step runs in, from the builds' settings (none where they are not all given: the benchmark's baseline). */
export function stepLimits(limits: { memory?: number; cpus?: number; pids?: number; disk?: number; minFreeDisk?: number; network?: string }, secrets: readonly string[]): Pick<ImageBuildRequest, "limits" | "secrets"> {
  const { memory, cpus, pids, disk, minFreeDisk, network } = limits;
  if (memory === undefined || cpus === undefined) return { secrets };
  return { secrets, limits: { memory, cpus, ...(network ? { network } : {}), ...(pids ? { pids } : {}), ...(disk !== undefined ? { diskBytes: disk } : {}), ...(minFreeDisk !== undefined ? { minFreeBytes: minFreeDisk } : {}) } };
}

/** The classic builder's options for each step's container. */
export function stepOptions(limits: BuildLimits, cgroupParent: string | undefined): Record<string, unknown> {
  return {
    ...(limits.network ? { networkmode: limits.network } : {}),
    memory: limits.memory,
    memswap: limits.memory,
    cpuperiod: 100_000,
    cpuquota: Math.round(limits.cpus * 100_000),
    ...(cgroupParent ? { cgroupparent: cgroupParent } : {}),
    // No single file past the budget: a `dd` of a huge file stops at once, however fast it writes.
    ...(limits.diskBytes !== undefined ? { ulimits: JSON.stringify([{ Name: "fsize", Soft: limits.diskBytes, Hard: limits.diskBytes }]) } : {}),
  };
}
