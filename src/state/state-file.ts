// The StateStore as one small JSON file, written atomically: ended demos and the waiting line survive a restart.
import { rename } from "node:fs/promises";
import path from "node:path";
import { SetupError, describeError } from "../core/errors.js";
import { silentLogger, type Logger } from "../logger.js";
import type { EngineState, StateStore } from "../core/runtime.js";
import { readIfExists, removeStaleTemps, writeAtomically } from "../files/atomic.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/**
 * The state file's format. A release that changes its shape raises it and reads every earlier one; a controller
 * never reads (or overwrites) a file of a format it does not know: that file is a newer release's, and the
 * controller refuses to start (a SetupError, which the engine passes on) rather than lose what it holds.
 */
export const STATE_FORMAT = 1;

export class StateFile implements StateStore {
  readonly file: string;

  constructor(stateDir: string, private readonly logger: Logger = silentLogger) {
    this.file = path.join(stateDir, "state.json");
  }

  async load(): Promise<EngineState> {
    await removeStaleTemps(this.file);
    const text = await readIfExists(this.file);
    if (!text) return { ended: [], queued: [] };
    let data: Partial<EngineState> & { version?: unknown };
    try {
      data = (JSON.parse(text) ?? {}) as Partial<EngineState> & { version?: unknown };
    } catch (error) {
      // Our writes are atomic, so this is someone else's doing (an edit by hand, a disk fault). It costs the
      // "expired" wording, the line and leases; the file is kept aside for a person to look at, not overwritten.
      const aside = `${this.file}.unreadable-${systemScheduler.now()}`;
      await rename(this.file, aside).catch(() => {});
      this.logger.error(`the state file ${this.file} is not readable JSON (${describeError(error)}); moved it to ${aside} and started without it`);
      return { ended: [], queued: [] };
    }
    // Files before the format was written down (none was released without it) are format 1.
    const version = data.version ?? 1;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) throw new SetupError(`${this.file} says its format is ${JSON.stringify(version)}, which no release of demo-launcher writes`, "move it away to start without the ended demos, the line and the leases it holds");
    if (version > STATE_FORMAT) throw new SetupError(`${this.file} has format ${version}, written by a newer demo-launcher; this one reads formats up to ${STATE_FORMAT}; the file is left as it is`, "start the newer release again, or move the file away to start without the ended demos, the line and the leases it holds");
    return {
      ended: Array.isArray(data.ended) ? data.ended.filter((entry) => typeof entry?.id === "string" && typeof entry.endedAt === "number") : [],
      queued: Array.isArray(data.queued) ? data.queued.filter((entry) => typeof entry?.id === "string" && typeof entry.app === "string") : [],
      starting: Array.isArray(data.starting) ? data.starting.filter((entry) => typeof entry?.id === "string" && typeof entry.app === "string" && typeof entry.queuedAt === "number") : [],
      leases: Array.isArray(data.leases) ? data.leases.filter((entry) => typeof entry?.id === "string" && typeof entry.expiresAt === "number") : [],
      ...(Array.isArray(data.replacements) ? { replacements: data.replacements.filter((entry) => typeof entry?.id === "string" && typeof entry.status === "string" && typeof entry.startedAt === "number") } : {}),
      ...(Array.isArray(data.asleep) ? { asleep: data.asleep.filter((id) => typeof id === "string") } : {}),
      ...(Array.isArray(data.jobs) ? { jobs: data.jobs.filter((job) => typeof job?.id === "string" && typeof job.demoId === "string" && typeof job.source === "string" && typeof job.status === "string" && typeof job.createdAt === "number" && typeof job.attempts === "number") } : {}),
      ...(Array.isArray(data.shared) ? { shared: data.shared.filter((entry) => typeof entry?.id === "string" && (entry.lastResetAt === undefined || typeof entry.lastResetAt === "number") && (entry.reset === undefined || (typeof entry.reset?.status === "string" && typeof entry.reset.startedAt === "number"))) } : {}),
    };
  }

  async save(state: EngineState): Promise<void> {
    await writeAtomically(this.file, `${JSON.stringify({ version: STATE_FORMAT, ...state })}\n`);
  }
}
