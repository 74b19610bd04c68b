// Holds demos to their disk budgets on one Docker host and refuses launches below the host's free-space floor.
import { statfs } from "node:fs/promises";
import type Docker from "dockerode";
import { demosOverBudget, formatBytes, lowDisk, type DiskFloor, type DiskSpace } from "../core/demos/disk.js";
import type { DiskService } from "../core/services.js";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { LABEL_PREFIX } from "../core/model.js";
import { call } from "./runtime.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** A fall of free space this large since the last measure means someone is writing fast: measure every demo now. */
const SUDDEN_FALL_BYTES = 256 * 1024 ** 2;
const SPACE_EVERY_MS = 1_000;
const SIZES_EVERY_MS = 5_000;

export interface DiskGuardOptions {
  namespace: string;
  floor: DiskFloor;
  /** Whether budgets must be measured (false when Docker holds containers to a quota itself). */
  watched: () => boolean;
  logger: Logger;
  /** Runs the checks; the system scheduler by default. */
  scheduler?: Scheduler;
}

/**
 * Where Docker cannot set a size quota (overlay2 on ext4, the usual case), budgets are measured: the writable
 * layers of our containers every 5 s, and at once when the free space falls fast; a demo past its budget ends.
 * One file can never outgrow the budget anyway (the fsize ulimit), so a single `dd` stops at it.
 */
export class DiskGuard {
  private timer: Cancel | undefined;
  private root: string | undefined;
  private lastSizesAt = 0;
  private freeAtLastSizes: number | undefined;
  private space: DiskSpace | undefined;
  private measuring = false;
  private lowReported = false;

  private readonly scheduler: Scheduler;

  constructor(private readonly docker: Docker, private readonly engine: DiskService, private readonly options: DiskGuardOptions) {
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  async start(): Promise<void> {
    try {
      const info = (await call(() => this.docker.info())) as { DockerRootDir?: string };
      if (info.DockerRootDir) await statfs(info.DockerRootDir).then(() => (this.root = info.DockerRootDir));
    } catch (error) {
      this.options.logger.warn(`disk: cannot read the free space under Docker's data root (${describeError(error)}); the floor (limits.minFreeDisk) is not checked, budgets are still measured`);
    }
    await this.tick();
    this.timer = this.scheduler.every(SPACE_EVERY_MS, () => this.tick());
  }

  stop(): void {
    this.timer?.();
  }

  /** One pass: read the free space, set or clear the launch floor, measure budgets when due. Never throws. */
  async tick(): Promise<void> {
    if (this.measuring) return;
    this.measuring = true;
    try {
      this.space = await this.readSpace();
      this.checkFloor();
      const fell = this.space && this.freeAtLastSizes !== undefined && this.freeAtLastSizes - this.space.freeBytes > SUDDEN_FALL_BYTES;
      if (this.options.watched() && (fell || this.scheduler.now() - this.lastSizesAt >= SIZES_EVERY_MS)) await this.measureBudgets();
    } catch (error) {
      this.options.logger.warn(`disk: ${describeError(error)}`);
    } finally {
      this.measuring = false;
    }
  }

  private async readSpace(): Promise<DiskSpace | undefined> {
    if (!this.root) return undefined;
    const stats = await statfs(this.root);
    return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize, freeInodes: stats.ffree, totalInodes: stats.files };
  }

  private checkFloor(): void {
    const low = lowDisk(this.space, this.options.floor);
    this.engine.gate.setLowDisk(low);
    if (low && !this.lowReported) {
      const what = low.freeInodes !== undefined ? `only ${low.freeInodes} inodes (under 5%) are` : `only ${formatBytes(low.freeBytes)} is`;
      this.options.logger.error(`disk: ${what} free under Docker's data root, below the floor of ${formatBytes(low.floorBytes)} (limits.minFreeDisk) or 5% of inodes: launches are refused until space is freed`);
    }
    if (!low && this.lowReported) this.options.logger.info("disk: free space is above the floor again; launches are accepted");
    this.lowReported = low !== undefined;
  }

  /** Reads every writable layer of ours in one call and ends (or, for shared demos and previews, renews) demos past their budget. */
  async measureBudgets(): Promise<void> {
    this.lastSizesAt = this.scheduler.now();
    this.freeAtLastSizes = this.space?.freeBytes;
    const containers = await call(() => this.docker.listContainers({ size: true, filters: { label: [`${LABEL_PREFIX}namespace=${this.options.namespace}`], status: ["running"] } }), 60_000);
    const written = new Map(containers.map((info) => [info.Id, (info as { SizeRw?: number }).SizeRw ?? 0]));
    const over = demosOverBudget(this.engine.list(), written, (demo) => this.engine.specFor(demo)?.disk);
    for (const { demo, writtenBytes, budgetBytes } of over) {
      if (demo.kind !== "visitor" && demo.replacement?.status === "running") continue;
      const reason = `it wrote ${formatBytes(writtenBytes)} to its file system, more than its disk budget of ${formatBytes(budgetBytes)}`;
      this.options.logger.warn(`disk: demo ${demo.id} (${demo.app}): ${reason}`, { demo: demo.id, app: demo.app });
      if (demo.kind === "visitor") await this.engine.endDemo(demo.id, "failed", reason);
      // A shared demo or a preview belongs to many people: it starts afresh (blue-green) rather than disappear.
      else await this.engine.replace(demo.id).catch((error) => this.options.logger.warn(`disk: renewing ${demo.id}: ${describeError(error)}`));
    }
  }
}
