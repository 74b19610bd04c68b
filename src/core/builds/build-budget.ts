// What a running preview build has put on disk, read from Docker's build output, and whether it must stop; pure.
import { formatBytes } from "../demos/disk.js";

/**
 * Follows the classic builder's output: which image the build stands on now, which step container is writing,
 * and which layers this build made (a cached step made none). Lines may arrive split; `feed` joins them.
 */
export class BuildProgress {
  /** The image the last finished step produced (the base image after FROM). */
  image: string | undefined;
  /** The container of the step running now, while it runs. */
  stepContainer: string | undefined;
  /** Layers this build committed, oldest first: what goes when the build is stopped. */
  readonly createdLayers: string[] = [];
  /** A step said a write failed for the file size limit (EFBIG): with builds.disk set, the budget stopped it. */
  fileTooLarge = false;
  private pending = "";
  private stepRan = false;

  feed(text: string): void {
    const lines = (this.pending + text).split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (/File too large|File size limit exceeded/i.test(line)) this.fileTooLarge = true;
    if (/^Step \d+\/\d+ : /.test(line)) {
      this.stepRan = false;
      return;
    }
    const running = /^ ---> Running in ([0-9a-f]{12,64})\s*$/.exec(line);
    if (running) {
      this.stepContainer = running[1];
      this.stepRan = true;
      return;
    }
    if (/^Removing intermediate container /.test(line)) {
      this.stepContainer = undefined;
      return;
    }
    const produced = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(line);
    if (produced) {
      this.image = produced[1];
      if (this.stepRan) this.createdLayers.push(produced[1]!);
      this.stepRan = false;
    }
  }
}

export interface BuildDiskReading {
  /** The image the build stands on, base and layers (undefined before FROM is done). */
  imageBytes: number;
  /** What the running step has written so far (0 when it was not measured). */
  stepBytes: number;
  /** Free bytes where Docker keeps its data, when this machine can see it. */
  freeBytes?: number;
}

export interface BuildDiskLimits {
  budgetBytes: number;
  floorBytes: number;
}

/** Why the build must stop now, in words for its log and page; undefined while it is within its limits. */
export function buildOverLimits(reading: BuildDiskReading, limits: BuildDiskLimits): string | undefined {
  if (reading.freeBytes !== undefined && reading.freeBytes < limits.floorBytes) return `the disk holding Docker's data fell to ${formatBytes(reading.freeBytes)} free, below builds.minFreeDisk (${formatBytes(limits.floorBytes)})`;
  const total = reading.imageBytes + reading.stepBytes;
  if (total > limits.budgetBytes) return `it took ${formatBytes(total)} on disk, more than builds.disk allows (${formatBytes(limits.budgetBytes)})`;
  return undefined;
}

/**
 * Whether the running step's writable layer must be measured (Docker walks its files: not every second for an
 * `npm ci`): when the disk's free space fell, since the step began, by more than half of what the budget leaves.
 */
export function stepNeedsMeasure(input: { freeAtStepStart?: number; freeNow?: number; imageBytes: number; budgetBytes: number }): boolean {
  if (input.freeAtStepStart === undefined || input.freeNow === undefined) return true;
  return input.freeAtStepStart - input.freeNow >= (input.budgetBytes - input.imageBytes) / 2;
}
