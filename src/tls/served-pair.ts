// Hands a checked pair to nginx the way a route is: routes.conf names the new pair's files (a new generation), the
// watcher's `nginx -t` and reload serve it, and a refusal puts the old pair back (the watcher restored its file).
import type { RouteConfirmation } from "../core/runtime.js";
import type { Logger } from "../logger.js";
import { CertificateProblem, type CertificateStore, type InstalledPair } from "./certificate-files.js";

/** The routes publisher's part that a new pair needs (RoutesFilePublisher). */
export interface PairPublisher {
  republish(): Promise<number | undefined>;
  confirm(generation: number, timeoutMs: number): Promise<RouteConfirmation>;
}

/** How long a new pair may take to be served before the controller stops waiting (it is served at the next reload). */
const CONFIRM_MS = 30_000;

export class ServedPair {
  private pair: InstalledPair | undefined;
  private publisher: PairPublisher | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** `refusal`: nginx's words for the last refused routes file (the watcher's status). */
  constructor(private readonly store: CertificateStore, private readonly refusal: () => Promise<string | undefined>, private readonly logger: Logger) {}

  /** The pair routes.conf names now. */
  get current(): InstalledPair | undefined {
    return this.pair;
  }

  /** Before the routes are first written: what nginx starts with (no confirmation: nginx may not run yet). */
  async begin(pair: InstalledPair): Promise<void> {
    this.pair = pair;
    await this.store.setCurrent(pair);
  }

  attach(publisher: PairPublisher): void {
    this.publisher = publisher;
  }

  /** Serves a new pair; throws a CertificateProblem with nginx's words when nginx refuses it (the old pair serves on). */
  serve(pair: InstalledPair): Promise<void> {
    const run = this.queue.then(() => this.serveNow(pair));
    this.queue = run.catch(() => {});
    return run;
  }

  private async serveNow(pair: InstalledPair): Promise<void> {
    const previous = this.pair;
    if (previous?.id === pair.id) return;
    this.pair = pair;
    const generation = await this.publisher?.republish();
    const outcome = generation === undefined ? "served" : await this.publisher!.confirm(generation, CONFIRM_MS);
    if (outcome === "refused") {
      this.pair = previous;
      await this.publisher!.republish();
      await this.store.prune(previous ? [previous.id] : []);
      throw new CertificateProblem(`nginx refused it, the old certificate serves on: ${(await this.refusal()) ?? `routes generation ${generation} failed nginx -t`}`);
    }
    if (outcome === "timeout") this.logger.warn(`tls: nginx has not confirmed routes generation ${generation} with the new certificate within ${CONFIRM_MS / 1000} s; it serves it at its next reload`);
    await this.store.setCurrent(pair);
    // The pair before stays while the watcher's last good file may still name it.
    await this.store.prune(previous ? [pair.id, previous.id] : [pair.id]);
  }
}
