// The StateStore as one small JSON file, written atomically: ended demos and the waiting line survive a restart.
import path from "node:path";
import type { EngineState, StateStore } from "../core/runtime.js";
import { readIfExists, removeStaleTemps, writeAtomically } from "../files/atomic.js";

export class StateFile implements StateStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, "state.json");
  }

  async load(): Promise<EngineState> {
    await removeStaleTemps(this.file);
    const text = await readIfExists(this.file);
    if (!text) return { ended: [], queued: [] };
    try {
      const data = JSON.parse(text) as Partial<EngineState>;
      return {
        ended: Array.isArray(data.ended) ? data.ended.filter((entry) => typeof entry?.id === "string" && typeof entry.endedAt === "number") : [],
        queued: Array.isArray(data.queued) ? data.queued.filter((entry) => typeof entry?.id === "string" && typeof entry.app === "string") : [],
        leases: Array.isArray(data.leases) ? data.leases.filter((entry) => typeof entry?.id === "string" && typeof entry.expiresAt === "number") : [],
      };
    } catch {
      // Atomic writes make this unlikely; an unreadable file costs the "expired" wording and the line.
      return { ended: [], queued: [] };
    }
  }

  async save(state: EngineState): Promise<void> {
    await writeAtomically(this.file, `${JSON.stringify({ version: 1, ...state })}\n`);
  }
}
