// The path of one launch: first instance created, answering, published, confirmed served by nginx, ready.
import { launched, toFailed, toHealth, toStep } from "../lifecycle.js";
import type { AppSpec as AppConfig } from "../app-spec.js";
import { waitUntil, type EngineContext, type Ports } from "../context.js";
import { publishUntilServed } from "../routing/route-desk.js";
import { describeError } from "../errors.js";
import { awaitInstanceReady, createInstance, InstanceFailure } from "../instances/instances.js";
import type { Demo, Instance } from "../model.js";
import { seedFreshInstance } from "../previews/preview-seed.js";
import { autoSnapshots, launchImage, startsFromSnapshot } from "../state/snapshots.js";

/** After a pool member fails to start, that app's pool waits this long before trying again. */
const POOL_RETRY_MS = 30_000;
/**
 * A demo that answers while others are still starting waits for them, up to GATHER_PER_OTHER_MS for each of them
 * and GATHER_MAX_MS at most, counted from the last routes write: a burst of launches costs a few nginx reloads
 * (each starts new workers and drains the old) instead of one per demo; a launch beside one or two others waits
 * a few hundred milliseconds at most; and the last of a burst is never held back, nobody being left to wait for.
 */
const GATHER_PER_OTHER_MS = 300;
const GATHER_MAX_MS = 4000;

function stillStarting(ctx: Ports<"closed" | "registry">, demo: Demo): () => boolean {
  return () => !ctx.closed && ctx.registry.isLive(demo) && demo.status === "starting";
}

/** Runs in the background after the visitor has their URL; every outcome is on the demo record. */
export async function runLaunch(ctx: EngineContext, demo: Demo, app: AppConfig): Promise<void> {
  const wanted = stillStarting(ctx, demo);
  toStep(demo, "starting");
  if (app.seed) {
    // Saved before its container exists: a restart from here on adopts a launch that still needs its seed.
    demo.unseeded = true;
    void ctx.saver.save();
  }
  // A visitor's demo is routed as soon as its endpoint is known, behind the starting gate (nginx asks us until it
  // answers): nginx's reload then runs while Docker starts the container instead of after the app answered.
  if (demo.kind === "visitor" && ctx.options.routeEarly !== false) demo.routeEarly = true;
  let early: Promise<boolean | undefined> | undefined;
  const placed = () => {
    if (demo.routeEarly && demo.instances.length === 1) early = publishUntilServed(ctx, wanted, `demo ${demo.id}`);
  };
  let instance: Instance | undefined;
  try {
    // Only an app whose default source is a snapshot asks Docker first (whether that snapshot exists yet).
    instance = await createInstance(ctx, demo, app, startsFromSnapshot(demo, app) ? await launchImage(ctx, demo, app) : app.image, wanted, placed);
  } catch (error) {
    if (wanted()) await failDemo(ctx, demo, error instanceof InstanceFailure ? error.message : `the container could not be started (${describeError(error)})`);
    return;
  }
  if (!instance) return;
  toStep(demo, "waiting-for-app");
  await finishLaunch(ctx, demo, instance, app.readiness, demo.createdAt, app, early, ctx.now());
}

/**
 * Waits for the instance to answer, then routes it; also used for demos adopted or started again mid-launch. `fresh`:
 * a fresh start of a preview whose source seeds its database (seeded before it is routed).
 */
export async function finishLaunch(ctx: EngineContext, demo: Demo, instance: Instance, readiness: { path: string; timeout: number }, since: number, fresh?: Pick<AppConfig, "seed">, routedEarly?: Promise<boolean | undefined>, startedAt?: number): Promise<void> {
  const wanted = stillStarting(ctx, demo);
  // Routed early (behind the starting gate): nginx learns the route while the app starts; once the app answers,
  // opening the gate is all it takes.
  const early = routedEarly ?? (demo.routeEarly && demo.instances.length === 1 ? publishUntilServed(ctx, wanted, `demo ${demo.id}`) : undefined);
  const result = await awaitInstanceReady(ctx, demo, instance, readiness, since, wanted, startedAt);
  if (result.outcome === "abandoned") return;
  if (result.outcome === "failed") return failDemo(ctx, demo, result.reason);
  if (fresh?.seed) {
    toStep(demo, "seeding");
    const failure = await seedFreshInstance(ctx, demo, fresh, instance);
    if (!wanted()) return;
    if (failure) return failDemo(ctx, demo, failure);
    delete demo.unseeded;
  }
  // From here the starting gate lets requests through: an early route needs no other write to serve it.
  toStep(demo, "routing");
  // An environment's further routed services (api-<host>) are routed only once it is healthy: that takes a write.
  const servedEarly = (await early) === true && Object.keys(instance.routes ?? {}).length === 0;
  if (servedEarly) {
    // Its route loses the gate at the next routes write: anyone's, or the reaper's once no launch is on its way
    // (never one per launch, and never on a launch's path).
    toHealth(instance, "healthy");
    ctx.routing.staleSince ??= ctx.now();
  } else {
    await gatherWithOthers(ctx, instance, wanted);
    // Healthy (and so in the routes) only now: a write by anyone else meanwhile (the reaper's) leaves it for the gathered one.
    toHealth(instance, "healthy");
    if ((await publishUntilServed(ctx, wanted, `demo ${demo.id}`)) === undefined) return;
  }
  if (!wanted()) return;
  ctx.restarts.forget(demo.id);
  launched(ctx, demo, since);
  ctx.track(autoSnapshots(ctx, demo));
}

/**
 * Waits while other launches are still on their way to answering (see GATHER_PER_OTHER_MS). The first one
 * gathered decides for all (one walk over the demos per tick, not one per waiting demo) and, when the wait ends,
 * releases every demo gathered so far at once, so one routes write takes them all.
 */
async function gatherWithOthers(ctx: Ports<"now" | "registry" | "routing" | "sleep" | "stopping">, instance: Instance, wanted: () => boolean): Promise<void> {
  const { gathering } = ctx.routing;
  const onTheirWay = () => {
    let count = 0;
    for (const other of ctx.registry.values()) if (other.status === "starting" && (other.step === "creating" || other.step === "starting" || other.step === "waiting-for-app")) count += 1;
    return count;
  };
  const { transitions } = ctx.registry;
  gathering.add(instance);
  try {
    for (;;) {
      if (instance.health === "healthy" || !wanted()) return;
      const seen = transitions.count;
      let windowLeft = Number.POSITIVE_INFINITY;
      // Only the first gathered decides; when it leaves (released, or its demo ended), the next one does.
      if (gathering.values().next().value === instance) {
        const others = onTheirWay();
        const windowEnds = ctx.routing.publishedAt + Math.min(GATHER_MAX_MS, others * GATHER_PER_OTHER_MS);
        if (others === 0 || ctx.now() >= windowEnds) {
          toHealth(gathering, "healthy");
          return;
        }
        windowLeft = windowEnds - ctx.now();
      }
      // Another launch moving on (answering, failing, ending) or a routes write changes the count or the window.
      await waitUntil(ctx, () => transitions.count !== seen, windowLeft);
    }
  } finally {
    gathering.delete(instance);
    // The next gathered one decides now; it waits for a change to learn that.
    transitions.notify();
  }
}

export async function failDemo(ctx: Ports<"end" | "now" | "poolPauses">, demo: Demo, reason: string): Promise<void> {
  if (demo.pooled) ctx.poolPauses.pause(demo.app, ctx.now() + POOL_RETRY_MS);
  toFailed(demo, reason);
  await ctx.end(demo, "failed", reason);
}
