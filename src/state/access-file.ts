// The AccessStore as access.json in the state dir, written atomically; a damaged file is moved aside, never trusted.
import { rename } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { systemScheduler } from "../clock/system-scheduler.js";
import type { AccessState, AccessStore } from "../core/access/access-desk.js";
import { describeError } from "../core/errors.js";
import { readIfExists, removeStaleTemps, serialWriter } from "../files/atomic.js";
import type { Logger } from "../logger.js";

const accessStateSchema = z.object({
  version: z.literal(1),
  shares: z.array(z.object({ id: z.string(), demo: z.string(), tokenHash: z.string(), note: z.string(), by: z.string(), createdAt: z.number(), expiresAt: z.number(), usesLeft: z.number().int().min(0).optional() })),
  passwords: z.record(z.string(), z.object({ hash: z.string(), stamp: z.string() })),
  epochs: z.record(z.string(), z.number()),
  signedOut: z.record(z.string(), z.number()),
});

export class AccessFile implements AccessStore {
  readonly file: string;
  private readonly write: (content: () => string) => Promise<void>;

  /** `readOnly`: for a command beside a running controller (render): a damaged file is left where it is. */
  constructor(stateDir: string, private readonly logger: Logger, private readonly readOnly = false) {
    this.file = path.join(stateDir, "access.json");
    this.write = serialWriter(this.file, (error) => logger.error(`writing ${this.file} failed: ${describeError(error)}`));
  }

  async load(): Promise<AccessState | undefined> {
    if (!this.readOnly) await removeStaleTemps(this.file);
    const text = await readIfExists(this.file);
    if (text === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return this.setAside(`is not readable JSON (${describeError(error)})`);
    }
    const version = (parsed as { version?: unknown } | null)?.version;
    // A newer controller's file is refused outright: starting without it would reopen every link it revoked.
    if (typeof version === "number" && version > 1) throw new Error(`${this.file} has version ${version}, which this controller does not know (it knows 1); start the newer controller again, or move the file away to forget shares and passwords`);
    const result = accessStateSchema.safeParse(parsed);
    if (!result.success) return this.setAside(`does not hold access state (${result.error.issues[0]?.path.join(".") ?? "?"}: ${result.error.issues[0]?.message ?? "?"})`);
    return result.data;
  }

  save(state: AccessState): Promise<void> {
    return this.write(() => `${JSON.stringify(state)}\n`);
  }

  /** Gated hosts stay gated without it: only links and per-demo passwords are lost, which refuses rather than opens. */
  private async setAside(why: string): Promise<undefined> {
    if (this.readOnly) return undefined;
    const aside = `${this.file}.unreadable-${systemScheduler.now()}`;
    await rename(this.file, aside).catch(() => {});
    this.logger.error(`the access file ${this.file} ${why}; moved it to ${aside} and started without its share links and passwords`);
    return undefined;
  }
}
