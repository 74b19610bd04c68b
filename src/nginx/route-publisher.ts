// Owns what nginx is told: publish(routes) → generation (coalesced, written atomically), confirm(generation) →
// served | refused | timeout, and the one thing that helps a refusal: leaving the operator's template for ours.
import { describeError, LastingFault } from "../core/errors.js";
import type { PublishedRoutes, Route } from "../core/routing/routes.js";
import type { RouteConfirmation, RoutePublisher } from "../core/runtime.js";
import { coalesceLatest } from "../core/single-flight.js";
import type { Logger } from "../logger.js";

/** Where routes are written: routes.conf on disk (RoutesFile), or memory in the core's unit tests. */
export interface RoutesStore {
  readCurrent(): Promise<PublishedRoutes>;
  write(routes: Route[], generation: number): Promise<boolean>;
  /** Puts the text last written back where the disk lost it. */
  restore?(): Promise<boolean>;
}

export type GenerationConfirmer = (generation: number, timeoutMs: number) => Promise<RouteConfirmation>;

/** Called when nginx refused a generation; true when the publisher changed course (the next write can pass). */
export type RefusalFallback = (generation: number) => Promise<boolean>;

export class RoutesFilePublisher implements RoutePublisher {
  private current = 0;
  private lastKey: string | undefined;
  /** The last write error, so a failing disk is reported once, not at every retry. */
  private readonly fault = new LastingFault();
  private readonly write = coalesceLatest((routes: () => Route[]) => this.writeOnce(routes()));
  /** The routes asked for last: written again, under a new generation, after a fallback. */
  private lastAsked: (() => Route[]) | undefined;

  constructor(private readonly file: RoutesStore, private readonly confirmer: GenerationConfirmer, private readonly logger: Logger, private readonly fallback?: RefusalFallback) {}

  get generation(): number {
    return this.current;
  }

  async load(): Promise<PublishedRoutes> {
    const published = await this.file.readCurrent();
    // The generation continues from the file on disk, so nginx's probe never sees it go backwards.
    this.current = published.generation;
    return published;
  }

  /** Calls while a write is queued share it, and it writes the routes as they are when it runs. */
  publish(routes: () => Route[]): Promise<number> {
    this.lastAsked = routes;
    this.publishing += 1;
    return this.write(routes).finally(() => (this.publishing -= 1));
  }

  /** Publishes in flight: a re-assertion then has nothing to do (they write the file anyway). */
  private publishing = 0;

  /**
   * Puts the file last written back, byte for byte, when the disk no longer holds it (its directory removed, a stale
   * copy put back by hand); writes nothing when it is there. Never a new generation or a new rendering: what nginx
   * serves changes only with a publish.
   */
  async reassert(): Promise<void> {
    if (this.publishing > 0) return;
    await this.file.restore?.().catch(() => false);
  }

  /**
   * Writes the routes asked for last again under a new generation: something else in the file changed (a new TLS
   * pair), and nginx must test and serve it like a route. Undefined before the first publish (that one renders it).
   */
  async republish(): Promise<number | undefined> {
    if (!this.lastAsked) return undefined;
    this.lastKey = undefined;
    return this.write(this.lastAsked);
  }

  /**
   * Waits for nginx to serve the generation. On a refusal the fallback may change course (the operator's template
   * set aside for ours): the same routes are then written once more, as a new generation, and that one is awaited.
   */
  async confirm(generation: number, timeoutMs: number): Promise<RouteConfirmation> {
    const result = await this.confirmer(generation, timeoutMs);
    if (result !== "refused" || !this.fallback || !this.lastAsked || !(await this.fallback(generation))) return result;
    this.lastKey = undefined;
    return this.confirmer(await this.write(this.lastAsked), timeoutMs);
  }

  private async writeOnce(routes: Route[]): Promise<number> {
    try {
      const key = JSON.stringify(routes);
      // Nothing changed here, but the file on disk may have been put back by the watcher or by hand: writing the
      // same routes again is a no-op when the content is the same. After a fallback the key is forgotten, so the
      // file made from the other template gets a generation of its own.
      const next = key === this.lastKey ? this.current : this.current + 1;
      await this.file.write(routes, next);
      this.current = next;
      this.lastKey = key;
      const fault = this.fault.clear();
      if (fault !== undefined) this.logger.info(`routes file written again (generation ${next}) after: ${fault}`);
      return next;
    } catch (error) {
      const message = describeError(error);
      if (this.fault.record(message)) this.logger.error(`cannot write the routes file: ${message}; nginx keeps the last routes, retrying`);
      throw error;
    }
  }
}
