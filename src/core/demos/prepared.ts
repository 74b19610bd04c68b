// Created-ahead containers: per app, `prepared` containers created but not started (no memory, no CPU, a port kept
// for them but not bound), each with its demo's id and host and routed behind the starting gate; a visitor's launch
// starts one: no create and no nginx reload on its path.
import type { AppSpec as AppConfig } from "../app-spec.js";
import type { EngineContext, Ports } from "../context.js";
import { describeError } from "../errors.js";
import { toStep } from "../lifecycle.js";
import type { Demo } from "../model.js";
import { hostFor } from "../routing/naming.js";
import { publishUntilServed } from "../routing/route-desk.js";
import { createInstance } from "../instances/instances.js";
import { startsFromSnapshot } from "../state/snapshots.js";
import { failDemo, finishLaunch, runLaunch } from "./launch.js";
import { PoolPauses } from "./pool.js";

/** A created-ahead container is replaced after this long (as a warm pool member is): none waits for days on an old image. */
const PREPARED_MAX_AGE_MS = 6 * 3_600_000;
/** After a create for the stock fails, that app's stock waits this long before trying again (not a crash loop). */
const PREPARED_RETRY_MS = 30_000;

/** The created-ahead containers, each held as the demo it becomes when claimed (`prepared`, one starting instance). */
export class PreparedStock {
  private readonly held = new Map<string, Demo>();
  private readonly making = new Map<string, number>();
  readonly pauses = new PoolPauses();
  /** Apps whose `prepared` this runtime cannot honour, said once each. */
  readonly leftAside = new Set<string>();

  /** Idempotent: a listing finds the stock's containers again. */
  add(demo: Demo): void {
    if (!this.held.has(demo.id)) this.held.set(demo.id, demo);
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  /** The oldest of the app's containers, out of the stock. */
  take(app: string): Demo | undefined {
    for (const demo of this.held.values()) {
      if (demo.app !== app) continue;
      this.held.delete(demo.id);
      return demo;
    }
    return undefined;
  }

  delete(id: string): Demo | undefined {
    const demo = this.held.get(id);
    this.held.delete(id);
    return demo;
  }

  of(app: string): Demo[] {
    return [...this.held.values()].filter((demo) => demo.app === app);
  }

  values(): IterableIterator<Demo> {
    return this.held.values();
  }

  /** Waiting and being created, per app (the console and metrics show the first). */
  counts(): Record<string, { ready: number; creating: number }> {
    const counts: Record<string, { ready: number; creating: number }> = {};
    for (const demo of this.held.values()) (counts[demo.app] ??= { ready: 0, creating: 0 }).ready += 1;
    for (const [app, creating] of this.making) if (creating > 0) (counts[app] ??= { ready: 0, creating: 0 }).creating = creating;
    return counts;
  }

  creatingFor(app: string, change: number): number {
    const now = (this.making.get(app) ?? 0) + change;
    this.making.set(app, now);
    return now;
  }
}

/** Created-ahead containers per app with `prepared` set: waiting, and being created. */
export function preparedStatus(ctx: Ports<"options" | "prepared">): Record<string, { ready: number; creating: number }> {
  const counts = ctx.prepared.counts();
  return Object.fromEntries(Object.entries(ctx.options.apps).filter(([, app]) => (app.prepared ?? 0) > 0).map(([name]) => [name, counts[name] ?? { ready: 0, creating: 0 }]));
}

/**
 * Removes every created-ahead container: nobody's demo yet, but the launcher's all the same, so they go with the
 * demos (up's Ctrl-C, stop --all).
 */
export async function removeStock(ctx: Ports<"prepared" | "removeQuietly">): Promise<void> {
  const held = [...ctx.prepared.values()];
  for (const demo of held) ctx.prepared.delete(demo.id);
  await Promise.all(held.flatMap((demo) => (demo.instances[0]?.containerId ? [ctx.removeQuietly(demo.instances[0].containerId)] : [])));
}

/**
 * Removes the warm pools' members and the created-ahead containers, and makes none again until the controller
 * restarts (`stop --all`: the package's removal stops the controller right after; an operator clearing the host).
 * Answers how many went.
 */
export async function removeSpares(ctx: EngineContext): Promise<number> {
  for (const name of Object.keys(ctx.options.apps)) {
    ctx.poolPauses.pause(name, Number.POSITIVE_INFINITY);
    ctx.prepared.pauses.pause(name, Number.POSITIVE_INFINITY);
  }
  const pooled = ctx.registry.all().filter((demo) => demo.pooled);
  const held = [...ctx.prepared.values()].length;
  await Promise.all([...pooled.map((demo) => ctx.end(demo, "stopped", "the spare containers were removed (stop --all)")), removeStock(ctx)]);
  return pooled.length + held;
}

/** Whether an app's demos can start from a created-ahead container on this runtime. */
export function preparable(ctx: Ports<"options">, app: AppConfig): boolean {
  const { runtime } = ctx.options;
  // An environment starts several services at once; a snapshot source's image is only known at the launch.
  return (app.prepared ?? 0) > 0 && !app.environment && runtime.prepare !== undefined && runtime.startPrepared !== undefined && !startsFromSnapshot({ kind: "visitor" } as Demo, app);
}

/** Keeps each app's stock at its `prepared` size: old or outdated containers replaced, none made below the disk floor. */
export function ensurePrepared(ctx: EngineContext): void {
  // Not while Docker starts a launch of ours: a create and a reload beside it would slow the very launch waiting.
  if (ctx.shuttingDown || ctx.registry.anyStarting(["creating", "starting"])) return;
  const now = ctx.now();
  let dropped = false;
  for (const [name, app] of Object.entries(ctx.options.apps)) {
    const held = ctx.prepared.of(name);
    const wanted = preparable(ctx, app) ? app.prepared! : 0;
    if (wanted === 0 && (app.prepared ?? 0) > 0 && !ctx.prepared.leftAside.has(name)) {
      ctx.prepared.leftAside.add(name);
      ctx.logger.warn(`app ${name}: prepared: ${app.prepared} is left aside: ${app.environment ? "an app of several services starts them together" : ctx.options.runtime.prepare ? "its demos start from a snapshot, whose image is known only at the launch" : "this runtime (a swarm) creates and starts a container in one step"}; its demos launch without`);
    }
    held.forEach((demo, index) => {
      if (index < wanted && now - demo.createdAt < PREPARED_MAX_AGE_MS && demo.instances[0]?.image === app.image) return;
      ctx.prepared.delete(demo.id);
      dropped = true;
      if (demo.instances[0]?.containerId) void ctx.removeQuietly(demo.instances[0].containerId);
    });
    if (wanted === 0 || ctx.gate.closedBy || ctx.prepared.pauses.paused(name, now)) continue;
    const counts = ctx.prepared.counts()[name];
    for (let count = (counts?.ready ?? 0) + (counts?.creating ?? 0); count < wanted; count += 1) ctx.track(prepareOne(ctx, name, app));
  }
  if (dropped) void ctx.publishRoutes().catch(() => {});
}

async function prepareOne(ctx: EngineContext, name: string, app: AppConfig): Promise<void> {
  const id = ctx.newUniqueId();
  const now = ctx.now();
  const demo: Demo = { id, kind: "visitor", app: name, host: hostFor(id, ctx.options.domain), createdAt: now, expiresAt: now + PREPARED_MAX_AGE_MS, status: "starting", step: "creating", prepared: true, routeEarly: true, instances: [] };
  ctx.prepared.creatingFor(name, 1);
  try {
    // Still wanted once made: not when the stock was removed meanwhile (stop --all's pause).
    const instance = await createInstance(ctx, demo, app, app.image, () => !ctx.shuttingDown && !ctx.prepared.pauses.paused(name, ctx.now()), undefined, true);
    if (!instance) return;
    ctx.prepared.add(demo);
    // Routed behind the gate now, so a launch that takes it needs no reload (the gate says no to a host nobody has).
    await ctx.publishRoutes().catch(() => {});
  } catch (error) {
    ctx.prepared.pauses.pause(name, ctx.now() + PREPARED_RETRY_MS);
    ctx.logger.warn(`app ${name}: a container created ahead could not be made (${describeError(error)}); trying again in ${PREPARED_RETRY_MS / 1000} s`);
  } finally {
    ctx.prepared.creatingFor(name, -1);
  }
}

/**
 * Gives a created-ahead container to a visitor: its lease (expiry, owner) on disk before anyone learns the URL, as a
 * claimed warm container's is, then started in the background. Undefined when the app's stock is empty.
 */
export async function claimPrepared(ctx: EngineContext, name: string, app: AppConfig, owner: string | undefined, requestId: string | undefined): Promise<Demo | undefined> {
  const demo = ctx.prepared.take(name);
  if (!demo) return undefined;
  const now = ctx.now();
  delete demo.prepared;
  // Its labels say when it was made; its lease and this record say when its visitor's time started.
  Object.assign(demo, { createdAt: now, expiresAt: now + app.ttl, step: "starting", lastGeneration: 1, ...(owner ? { owner } : {}), ...(requestId ? { requestId } : {}), ...(app.seed ? { unseeded: true } : {}) });
  ctx.registry.add(demo);
  ctx.registry.keepLease(demo);
  // Docker starts it while the lease is written: a controller that dies in between leaves a started container
  // without a lease, which the next run removes (nobody had the URL yet).
  ctx.track(startClaimed(ctx, demo, app));
  await ctx.saver.save();
  return demo;
}

/** Starts a claimed container (also one a restart found claimed but not started); a failed start launches it afresh. */
export async function startClaimed(ctx: EngineContext, demo: Demo, app: AppConfig): Promise<void> {
  const wanted = () => !ctx.closed && ctx.registry.isLive(demo) && demo.status === "starting";
  const instance = demo.instances[0]!;
  ctx.creating.add(instance.id);
  const start = ctx.options.runtime.startPrepared!(instance.containerId!);
  // Its route is in nginx already (the stock's, behind the gate): this publish finds the same file.
  const early = publishUntilServed(ctx, wanted, `demo ${demo.id}`);
  try {
    await start;
  } catch (error) {
    demo.instances = [];
    await ctx.removeQuietly(instance.containerId!);
    if (!wanted()) return;
    // Its port taken meanwhile, or the container gone: a cold launch of the same demo (the visitor has its URL).
    ctx.logger.warn(`demo ${demo.id}: its container created ahead did not start (${describeError(error)}); creating another`);
    return runLaunch(ctx, demo, app).catch((failure: unknown) => failDemo(ctx, demo, describeError(failure)));
  } finally {
    ctx.creating.delete(instance.id);
  }
  toStep(demo, "waiting-for-app");
  await finishLaunch(ctx, demo, instance, app.readiness, demo.createdAt, app, early, ctx.now());
}
