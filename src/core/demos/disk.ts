// Disk budgets, pure: which demos wrote past their budget, and whether the host is below its free-space floor.
import type { Demo } from "../model.js";

/** The host's floor: a fixed size, a share of the file system, or (by default) the larger of 5% and 2 GiB. */
export type DiskFloor = { bytes: number } | { percent: number } | "default";

export function floorBytes(floor: DiskFloor, totalBytes: number): number {
  if (floor === "default") return Math.max(Math.round(totalBytes * 0.05), 2 * 1024 ** 3);
  return "bytes" in floor ? floor.bytes : Math.round((totalBytes * floor.percent) / 100);
}

/** The free space on the file system under Docker's data, when the controller can see it. */
export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
  /** Inodes: a demo making millions of empty files fills a disk without using its bytes. */
  freeInodes?: number;
  totalInodes?: number;
}

export interface LowDisk {
  freeBytes: number;
  floorBytes: number;
  /** Set when inodes, not bytes, are short. */
  freeInodes?: number;
}

/**
 * The launch gate for the disk floor: the disk guard (an edge) closes it while the host is below its floor and
 * opens it again; a launch that would start something new asks it first.
 */
export class LaunchGate {
  private low: LowDisk | undefined;

  /** Why nothing new starts now, or undefined when launches may go on. */
  get closedBy(): LowDisk | undefined {
    return this.low;
  }

  /** The disk guard's verdict at each reading: below the floor (closed) or not (open). */
  setLowDisk(low: LowDisk | undefined): void {
    this.low = low;
  }
}

/** Below 5% of its inodes free, a file system is as full as one below its byte floor. */
const INODE_FLOOR_SHARE = 0.05;

export function lowDisk(space: DiskSpace | undefined, floor: DiskFloor): LowDisk | undefined {
  if (!space) return undefined;
  const bytes = floorBytes(floor, space.totalBytes);
  if (space.freeBytes < bytes) return { freeBytes: space.freeBytes, floorBytes: bytes };
  if (space.totalInodes && space.freeInodes !== undefined && space.freeInodes < space.totalInodes * INODE_FLOOR_SHARE) return { freeBytes: space.freeBytes, floorBytes: bytes, freeInodes: space.freeInodes };
  return undefined;
}

export interface OverBudget {
  demo: Demo;
  writtenBytes: number;
  budgetBytes: number;
}

/** Demos with an instance whose writable layer holds more than the app's budget. `written`: bytes by container id. */
export function demosOverBudget(demos: Iterable<Demo>, written: ReadonlyMap<string, number>, budgetOf: (demo: Demo) => number | undefined): OverBudget[] {
  const over: OverBudget[] = [];
  for (const demo of demos) {
    const budget = budgetOf(demo);
    if (!budget) continue;
    const most = Math.max(0, ...demo.instances.map((instance) => (instance.containerId ? written.get(instance.containerId) ?? 0 : 0)));
    if (most > budget) over.push({ demo, writtenBytes: most, budgetBytes: budget });
  }
  return over;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.round(bytes / 1024)} kB`;
}
