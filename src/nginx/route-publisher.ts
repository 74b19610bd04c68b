// Owns what nginx is told: publish(routes) → generation (coalesced, written atomically), confirm(generation) by asking nginx.
import { describeError, LastingFault } from "../core/errors.js";
import type { PublishedRoutes, Route } from "../core/routes.js";
import type { RoutePublisher } from "../core/runtime.js";
import { coalesceLatest } from "../core/single-flight.js";
import type { Logger } from "../logger.js";

/** Where routes are written: routes.conf on disk (RoutesFile), or memory in the core's unit tests. */
export interface RoutesStore {
  readCurrent(): Promise<PublishedRoutes>;
  write(routes: Route[], generation: number): Promise<boolean>;
}

export type GenerationConfirmer = (generation: number, timeoutMs: number) => Promise<boolean>;

export class RoutesFilePublisher implements RoutePublisher {
  private current = 0;
  private lastKey: string | undefined;
  /** The last write error, so a failing disk is reported once, not at every retry. */
  private readonly fault = new LastingFault();
  private readonly write = coalesceLatest((routes: () => Route[]) => this.writeOnce(routes()));

  constructor(private readonly file: RoutesStore, private readonly confirmer: GenerationConfirmer, private readonly logger: Logger) {}

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
    return this.write(routes);
  }

  confirm(generation: number, timeoutMs: number): Promise<boolean> {
    return this.confirmer(generation, timeoutMs);
  }

  private async writeOnce(routes: Route[]): Promise<number> {
    try {
      const key = JSON.stringify(routes);
      // Nothing changed here, but the file on disk may have been put back by the watcher or by hand (or the
      // template changed): writing the same routes again is a no-op when the content is the same.
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
