// The EndedStore as one small JSON file, written atomically, so expired hosts still say "expired" after a restart.
import path from "node:path";
import type { EndedDemo, EndedStore } from "../core/runtime.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";

export class EndedFile implements EndedStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, "ended.json");
  }

  async load(): Promise<EndedDemo[]> {
    const text = await readIfExists(this.file);
    if (!text) return [];
    try {
      const data = JSON.parse(text) as { ended?: EndedDemo[] };
      return Array.isArray(data.ended) ? data.ended.filter((entry) => typeof entry?.id === "string" && typeof entry.endedAt === "number") : [];
    } catch {
      // Atomic writes make this unlikely; an unreadable file only costs the "expired" wording.
      return [];
    }
  }

  async save(ended: EndedDemo[]): Promise<void> {
    await writeAtomically(this.file, `${JSON.stringify({ version: 1, ended })}\n`);
  }
}
