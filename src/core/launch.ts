// The path of one launch: first instance created, answering, published, confirmed served by nginx, ready.
import type { AppSpec as AppConfig } from "./app-spec.js";
import type { EngineContext } from "./context.js";
import { retryWithBackoff } from "./backoff.js";
import { describeError } from "./errors.js";
import { awaitInstanceReady, createInstance, InstanceFailure } from "./instances.js";
import type { Demo, Instance } from "./model.js";
import { autoSnapshots, launchImage, startsFromSnapshot } from "./snapshots.js";

/** After a pool member fails to start, that app's pool waits this long before trying again. */
const POOL_RETRY_MS = 30_000;

function stillStarting(ctx: EngineContext, demo: Demo): () => boolean {
  return () => !ctx.closed && ctx.registry.isLive(demo) && demo.status === "starting";
}

/** Runs in the background after the visitor has their URL; every outcome is on the demo record. */
export async function runLaunch(ctx: EngineContext, demo: Demo, app: AppConfig): Promise<void> {
  const wanted = stillStarting(ctx, demo);
  demo.step = "starting";
  let instance: Instance | undefined;
  try {
    // Only an app whose default source is a snapshot asks Docker first (whether that snapshot exists yet).
    instance = await createInstance(ctx, demo, app, startsFromSnapshot(demo, app) ? await launchImage(ctx, demo, app) : app.image, wanted);
  } catch (error) {
    if (wanted()) await failDemo(ctx, demo, error instanceof InstanceFailure ? error.message : `the container could not be started (${describeError(error)})`);
    return;
  }
  if (!instance) return;
  demo.step = "waiting-for-app";
  await finishLaunch(ctx, demo, instance, app.readiness, demo.createdAt);
}

/** Waits for the instance to answer, then routes it; also used for demos adopted or started again mid-launch. */
export async function finishLaunch(ctx: EngineContext, demo: Demo, instance: Instance, readiness: { path: string; timeout: number }, since: number): Promise<void> {
  const wanted = stillStarting(ctx, demo);
  // Routed early: nginx learns the route while the app starts; the publish below then finds it served.
  const early = demo.routeEarly && demo.instances.length === 1 ? publishUntilServed(ctx, wanted, `demo ${demo.id}`) : undefined;
  const result = await awaitInstanceReady(ctx, demo, instance, readiness, since, wanted);
  await early;
  if (result.outcome === "abandoned") return;
  if (result.outcome === "failed") return failDemo(ctx, demo, result.reason);
  instance.health = "healthy";
  demo.step = "routing";
  const confirmed = await publishUntilServed(ctx, wanted, `demo ${demo.id}`);
  if (confirmed === undefined || !wanted()) return;
  ctx.registry.restartAttempts.delete(demo.id);
  demo.status = "ready";
  demo.step = "done";
  if (!demo.pooled) ctx.emit({ type: "ready", id: demo.id, app: demo.app, kind: demo.kind, seconds: (ctx.now() - since) / 1000, ...(demo.requestId ? { requestId: demo.requestId } : {}) });
  ctx.track(autoSnapshots(ctx, demo));
}

/**
 * Publishes the routes until the file is written (a full or read-only disk must not strand a demo half-way),
 * then waits until nginx serves them. True when confirmed, false when nginx did not confirm in time, undefined
 * when the caller stopped wanting it meanwhile.
 */
export async function publishUntilServed(ctx: EngineContext, wanted: () => boolean, what: string): Promise<boolean | undefined> {
  const publish = () => retryWithBackoff(() => ctx.publishRoutes(), { firstMs: 250, maxMs: 5000, sleep: (ms) => ctx.sleep(ms), stillWanted: wanted });
  const generation = await publish();
  if (generation === undefined) return undefined;
  const timeoutMs = ctx.options.routeConfirmTimeoutMs ?? 10_000;
  const started = ctx.now();
  let confirmed = await ctx.options.routes.confirm(generation, timeoutMs).catch(() => false);
  if (confirmed) ctx.emit({ type: "routes-applied", seconds: (ctx.now() - started) / 1000 });
  if (!confirmed && ctx.now() - started < timeoutMs / 2 && wanted()) {
    // An early "no" means nginx refused the file; the routes edge may have changed course since (fallen
    // back from an operator template nginx refused), so the same routes published again deserve one more try.
    const retry = await publish();
    if (retry !== undefined) confirmed = await ctx.options.routes.confirm(retry, timeoutMs).catch(() => false);
  }
  if (!wanted()) return undefined;
  if (!confirmed) ctx.logger.warn(`${what}: nginx did not confirm routes generation ${generation} (check the watcher)`);
  return confirmed;
}

export async function failDemo(ctx: EngineContext, demo: Demo, reason: string): Promise<void> {
  if (demo.pooled) ctx.registry.poolPausedUntil.set(demo.app, ctx.now() + POOL_RETRY_MS);
  demo.status = "failed";
  demo.reason = reason;
  await ctx.end(demo, "failed", reason);
}
