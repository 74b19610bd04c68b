// Watches one file by its directory (an atomic rename replaces the file's inode), and catches what inotify misses:
// the directory removed and made again, a full event queue, a mount over it.
import { stat } from "node:fs/promises";
import path from "node:path";
import chokidar, { type FSWatcher } from "chokidar";
import { describeError } from "../core/errors.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";

const SAFETY_CHECK_MS = 2000;
/** The longest a new watch may take to be ready before the safety check goes on without it. */
const READY_WAIT_MS = 5000;

/** A directory made again after removal often gets the same inode number back: its birth time tells them apart. */
function dirIdentity(info: { dev: number; ino: number; birthtimeMs: number } | undefined): string | undefined {
  return info ? `${info.dev}:${info.ino}:${info.birthtimeMs}` : undefined;
}

export class DirectoryWatch {
  private readonly file: string;
  private fsWatcher: FSWatcher | undefined;
  private watchedDir: string | undefined;
  private lastSeenFile: string | undefined;
  private checking = false;
  private closed = false;
  private safetyTimer: Cancel | undefined;

  constructor(private readonly dir: string, private readonly fileName: string, private readonly changed: () => void, private readonly scheduler: Scheduler, private readonly logger: Logger) {
    this.file = path.join(dir, fileName);
  }

  async start(): Promise<void> {
    await this.watchDir();
    // Events can be lost: a cheap stat now and then catches what they missed, and watches a new directory.
    this.safetyTimer = this.scheduler.every(SAFETY_CHECK_MS, () => this.safetyCheck());
  }

  private async watchDir(): Promise<void> {
    await this.fsWatcher?.close();
    this.watchedDir = dirIdentity(await stat(this.dir).catch(() => undefined));
    const fsWatcher = chokidar.watch(this.dir, {
      ignoreInitial: true,
      depth: 0,
      ignored: (file) => file !== this.dir && path.basename(file) !== this.fileName,
    });
    this.fsWatcher = fsWatcher;
    fsWatcher.on("all", () => this.changed());
    fsWatcher.on("error", (error) => this.logger.error(`watcher: ${describeError(error)}`));
    // Bounded: a directory removed again while chokidar starts may never make it "ready", and the safety check that
    // called this would then wait for ever, its stat of the file (the net under lost events) with it.
    const giveUp = new AbortController();
    await Promise.race([new Promise<void>((resolve) => fsWatcher.once("ready", () => resolve())), this.scheduler.sleep(READY_WAIT_MS, giveUp.signal)]);
    // Its timer would otherwise hold a closing process open for the rest of the wait.
    giveUp.abort();
    // A write between the caller's first look and the watch being ready would otherwise go unseen.
    this.changed();
  }

  private async safetyCheck(): Promise<void> {
    if (this.closed || this.checking) return;
    this.checking = true;
    try {
      const dir = await stat(this.dir).catch(() => undefined);
      if (dir && dirIdentity(dir) !== this.watchedDir) {
        this.logger.warn(`watcher: ${this.dir} was replaced; watching the new one`);
        await this.watchDir();
        return;
      }
      const file = await stat(this.file).catch(() => undefined);
      const seen = file ? `${file.ino}:${file.size}:${file.mtimeMs}` : undefined;
      if (seen !== this.lastSeenFile) {
        this.lastSeenFile = seen;
        this.changed();
      }
    } finally {
      this.checking = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.safetyTimer?.();
    await this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }
}
