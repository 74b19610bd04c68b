// The core's side of routing: one publish of every live demo's route at a time, the launches gathering for it, and
// waiting until nginx serves a publish (a refusal is a lasting fault the publisher reports, never retried here).
import type { AppSpec } from "../app-spec.js";
import { retryWithBackoff } from "../backoff.js";
import type { Ports } from "../context.js";
import type { Demo, Instance } from "../model.js";
import type { DemoRegistry } from "../registry.js";
import { demoRoutes } from "./routes.js";
import type { RouteConfirmation, RoutePublisher } from "../runtime.js";
import { LastingFault } from "../errors.js";

export class RouteDesk {
  /** When the routes were last published: a burst's launches gather within a window after it (launch.ts). */
  publishedAt = 0;
  /** Instances that answer and wait to be routed together with the launches still starting (launch.ts). */
  readonly gathering = new Set<Instance>();
  /**
   * Since when what is published differs from what should be, harmlessly (a ready demo still behind the starting
   * gate, which lets it through): the reaper writes it when no launch is on its way, or after a while.
   */
  staleSince: number | undefined;
  /** nginx refusing our files is one lasting fault, reported once and its end once, not at every launch. */
  readonly refusal = new LastingFault();

  constructor(
    private readonly publisher: RoutePublisher,
    private readonly registry: DemoRegistry,
    private readonly now: () => number,
    private readonly specFor: (demo: Demo) => AppSpec | undefined,
    private readonly gateOf: (demo: Demo) => string | undefined = () => undefined,
    private readonly hostsOf: (demo: Demo) => readonly string[] = () => [],
    /** Demos not in the registry yet routed: created-ahead containers, behind the starting gate. */
    private readonly unclaimed: () => Iterable<Demo> = () => [],
  ) {}

  /** The newest generation written. */
  get generation(): number {
    return this.publisher.generation;
  }

  /** Publishes the routes of every live demo; resolves to the generation that holds them. */
  publish(): Promise<number> {
    // From the call on: a launch that answers while this write runs gathers with the next one, not right behind it.
    this.publishedAt = this.now();
    this.staleSince = undefined;
    this.registry.transitions.notify();
    // Each app says whether it wants the time-left banner; preview sources never do (a team's own copy).
    const every = function* (this: RouteDesk) {
      yield* this.registry.values();
      yield* this.unclaimed();
    };
    return this.publisher.publish(() => demoRoutes(every.call(this), this.now(), this.specFor, this.gateOf, this.hostsOf));
  }

  /** The file last published, put back where the disk lost it (see RoutePublisher.reassert). */
  reassert(): Promise<void> {
    return this.publisher.reassert?.() ?? Promise.resolve();
  }

  confirm(generation: number, timeoutMs: number): Promise<RouteConfirmation> {
    return this.publisher.confirm(generation, timeoutMs).catch((): RouteConfirmation => "timeout");
  }
}

/**
 * Publishes the routes until the file is written (a full or read-only disk must not strand a demo half-way),
 * then waits until nginx serves them. True when served, false when nginx refused the file or did not confirm in
 * time, undefined when the caller stopped wanting it meanwhile. A refusal is not retried: the publisher has
 * already done what could help (fallen back from an operator template nginx refused) before answering.
 */
export async function publishUntilServed(ctx: Ports<"emit" | "logger" | "now" | "options" | "routing" | "sleep">, wanted: () => boolean, what: string): Promise<boolean | undefined> {
  const generation = await retryWithBackoff(() => ctx.routing.publish(), { firstMs: 250, maxMs: 5000, sleep: (ms) => ctx.sleep(ms), stillWanted: wanted });
  if (generation === undefined) return undefined;
  const started = ctx.now();
  const confirmation = await ctx.routing.confirm(generation, ctx.options.routeConfirmTimeoutMs ?? 10_000);
  if (confirmation === "served") {
    ctx.emit({ type: "routes-applied", seconds: (ctx.now() - started) / 1000 });
    if (ctx.routing.refusal.clear() !== undefined) ctx.logger.info(`nginx serves the routes again (generation ${generation})`);
  }
  if (!wanted()) return undefined;
  if (confirmation === "refused" && ctx.routing.refusal.record(`refused generation ${generation}`)) {
    ctx.logger.error(`${what}: nginx refused routes generation ${generation}; it keeps serving the last good routes file until one passes its test (see the watcher's status)`);
  }
  if (confirmation === "timeout") ctx.logger.warn(`${what}: nginx did not confirm routes generation ${generation} (check the watcher)`);
  return confirmation === "served";
}
