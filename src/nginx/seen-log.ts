// Tails the log nginx writes of requests to previews (one host per line): how the controller learns a preview is
// used without a hop of its own in front of every request. Kept small by truncating it once read.
import { mkdir, open, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { idFromHost } from "../core/routing/naming.js";
import type { Logger } from "../logger.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const READ_EVERY_MS = 2000;
/** nginx flushes its buffer within 1 s and we read every 2 s: a request is known at most this late. */
export const SEEN_LOG_LAG_MS = READ_EVERY_MS + 1000;
/** Past this size, a log read to its end is emptied (nginx appends with O_APPEND, so it goes on at 0). */
const TRUNCATE_AT_BYTES = 16 * 1024 * 1024;
const MAX_READ_BYTES = 4 * 1024 * 1024;

export class SeenLog {
  private offset = 0;
  private timer: Cancel | undefined;
  private reading: Promise<void> | undefined;
  /** True once nginx is known to write the file: idle stop is only safe then. */
  private seenByNginx = false;

  /** `ownHosts`: a demo's own names outside the domain (a branch preview's), by the demo they belong to. */
  constructor(private readonly file: string, private readonly domain: string, private readonly onLabels: (labels: Set<string>) => void, private readonly logger: Logger, private readonly scheduler: Scheduler = systemScheduler, private readonly ownHosts: ReadonlyMap<string, string> = new Map()) {}

  /** Whether requests are being counted: the file exists (nginx opened it when it loaded the routes). */
  get working(): boolean {
    return this.seenByNginx;
  }

  /**
   * Creates the file if missing (owned by us, so we may empty it later) and starts reading from its end:
   * requests from before this start say nothing about what is idle now.
   */
  async start(): Promise<void> {
    const size = await stat(this.file).then((info) => info.size, async () => {
      await mkdir(path.dirname(this.file), { recursive: true }).catch(() => {});
      await writeFile(this.file, "", { flag: "a" }).catch((error) => this.logger.warn(`cannot create ${this.file} (${(error as Error).message}); idle previews are not stopped`));
      return 0;
    });
    this.offset = size;
    this.timer = this.scheduler.every(READ_EVERY_MS, () => this.readNew());
  }

  /** Reads what nginx added since the last read (tests call it to skip the wait). */
  readNew(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  async close(): Promise<void> {
    this.timer?.();
    await this.reading;
  }

  private async read(): Promise<void> {
    const size = await stat(this.file).then((info) => info.size, () => undefined);
    if (size === undefined) {
      this.seenByNginx = false;
      return;
    }
    this.seenByNginx = true;
    // Emptied or replaced (logrotate): start again from its beginning.
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const length = Math.min(size - this.offset, MAX_READ_BYTES);
    const handle = await open(this.file, "r");
    let text: string;
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
      // Only whole lines: a line nginx is still writing is read next time.
      const end = buffer.subarray(0, bytesRead).lastIndexOf(10) + 1;
      text = buffer.subarray(0, end).toString("utf8");
      this.offset += end;
    } finally {
      await handle.close();
    }
    const labels = new Set<string>();
    for (const line of text.split("\n")) {
      const id = line ? (idFromHost(line.trim(), this.domain) ?? this.ownHosts.get(line.trim().toLowerCase())) : undefined;
      if (id) labels.add(id);
    }
    if (labels.size > 0) this.onLabels(labels);
    if (this.offset >= TRUNCATE_AT_BYTES && this.offset === size) {
      await truncate(this.file, 0).then(() => (this.offset = 0), () => {});
    }
  }
}
