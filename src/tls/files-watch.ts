// The operator's own certificate files (tls.certificate and tls.key, from certbot or a company CA): watched, and served
// again when they change; a pair that fails its check is reported and never served (the old one serves on).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describeError } from "../core/errors.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";
import { DirectoryWatch } from "../nginx/dir-watch.js";
import type { CertificateInfo } from "./certificate-files.js";

/** certbot writes the chain and the key one after the other: one look once both settled. */
const SETTLE_MS = 300;

export interface FilesWatchOptions {
  certificate: string;
  key: string;
  /** Checks, installs and serves a pair (the controller's install); throws with the reason it may not be served. */
  install: (certificate: string, key: string) => Promise<CertificateInfo>;
  scheduler: Scheduler;
  logger: Logger;
  onChange: () => void;
}

export class CertificateFilesWatch {
  private watches: DirectoryWatch[] = [];
  private lastSeen: string | undefined;
  private failures = 0;
  private lastError: { message: string; at: number } | undefined;
  private settle: Cancel | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: FilesWatchOptions) {}

  /** Both files as they are now; throws with the file that could not be read. */
  async read(): Promise<{ certificate: string; key: string }> {
    const load = (file: string, key: string) => readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new Error(`tls.${key} ${JSON.stringify(file)} cannot be read (${error.code ?? "error"})`);
    });
    const pair = { certificate: await load(this.options.certificate, "certificate"), key: await load(this.options.key, "key") };
    this.lastSeen ??= pair.certificate + pair.key;
    return pair;
  }

  /** The pair at start could not be served (the last one served serves instead). */
  failed(error: Error): void {
    this.failures += 1;
    this.lastError = { message: error.message, at: this.options.scheduler.now() };
  }

  status(): { failures: number; lastError?: { message: string; at: number } } {
    return { failures: this.failures, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  async start(): Promise<void> {
    // Each file by its folder: certbot renames a new file (or symlink) into place.
    for (const file of [this.options.certificate, this.options.key]) {
      const watch = new DirectoryWatch(path.dirname(file), path.basename(file), () => this.poke(), this.options.scheduler, this.options.logger);
      this.watches.push(watch);
      await watch.start();
    }
  }

  private poke(): void {
    this.settle?.();
    this.settle = this.options.scheduler.after(SETTLE_MS, () => void this.reload());
  }

  /** Reads both files; a changed pair is installed, one that cannot be is reported. Runs one at a time. */
  reload(): Promise<void> {
    this.running = this.running.then(() => this.reloadOnce());
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    try {
      const pair = await this.read();
      if (pair.certificate + pair.key === this.lastSeen && this.failures === 0) return;
      this.lastSeen = pair.certificate + pair.key;
      const info = await this.options.install(pair.certificate, pair.key);
      this.failures = 0;
      this.lastError = undefined;
      this.options.logger.info(`tls: serving the certificate from ${this.options.certificate} (${info.names.join(", ")}, until ${info.notAfter.toISOString()})`);
    } catch (error) {
      this.failed(error as Error);
      this.options.logger.error(`tls: the changed certificate files are not served (the old pair serves on): ${describeError(error)}`);
    }
    this.options.onChange();
  }

  async close(): Promise<void> {
    this.settle?.();
    for (const watch of this.watches) await watch.close();
    await this.running;
  }
}
