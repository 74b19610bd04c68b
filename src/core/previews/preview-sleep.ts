// Previews asleep: an idle one is unrouted, then its container stopped (not removed); a request wakes that same
// container, or a fresh one from its image when it cannot start.
import { toHealth, toStatus, toStep } from "../lifecycle.js";
import type { EngineContext, Ports } from "../context.js";
import { failDemo, finishLaunch, runLaunch } from "../demos/launch.js";
import { newestInstance, type Demo } from "../model.js";

/** Ready previews unused for their source's idleStop, with nothing under way; pure. */
export function planIdleStops(demos: Iterable<Demo>, now: number, idleStopFor: (demo: Demo) => number | undefined): Demo[] {
  const idle: Demo[] = [];
  for (const demo of demos) {
    if (demo.kind !== "preview" || demo.status !== "ready" || demo.replacement?.status === "running" || demo.wantedImage !== undefined) continue;
    const idleStop = idleStopFor(demo);
    if (idleStop !== undefined && now - (demo.lastSeenAt ?? demo.createdAt) >= idleStop) idle.push(demo);
  }
  return idle;
}

/** Previews whose container is being stopped: a wake waits for the stop, or Docker would undo the start. */
const fallingAsleep = new WeakMap<Demo, Promise<void>>();

/** Unroutes an idle preview, then stops (not removes) its container; the next request wakes it. */
export function putToSleep(ctx: Ports<"logger" | "now" | "options" | "publishRoutes" | "registry" | "removeQuietly" | "routing" | "saver">, demo: Demo): Promise<void> {
  const stopping = stopIdle(ctx, demo).finally(() => fallingAsleep.delete(demo));
  fallingAsleep.set(demo, stopping);
  return stopping;
}

async function stopIdle(ctx: Ports<"logger" | "now" | "options" | "publishRoutes" | "registry" | "removeQuietly" | "routing" | "saver">, demo: Demo): Promise<void> {
  toStatus(ctx, demo, "asleep");
  // Only the serving instance is kept; a draining one would have gone by now anyway.
  const keep = newestInstance(demo);
  // Stopped only once nginx no longer sends it requests: from then on a request reaches us and wakes it.
  const generation = await ctx.publishRoutes().catch(() => undefined);
  if (generation !== undefined) await ctx.routing.confirm(generation, ctx.options.routeConfirmTimeoutMs ?? 10_000);
  if (demo.status !== "asleep" || !ctx.registry.isLive(demo)) return;
  for (const instance of demo.instances) {
    if (!instance.containerId) continue;
    if (instance === keep) await ctx.options.runtime.stop(instance.containerId).catch((error) => ctx.logger.warn(`stopping idle preview ${demo.id}: ${(error as Error).message}`));
    else await ctx.removeQuietly(instance.containerId);
  }
  demo.instances = keep ? [keep] : [];
  ctx.logger.info(`preview ${demo.id} is asleep after ${Math.round((ctx.now() - (demo.lastSeenAt ?? demo.createdAt)) / 60_000)} min without requests`);
}

/**
 * Starts an asleep preview's container again and routes it once it answers; a container that cannot start
 * (removed by hand, its port taken) is replaced by a fresh one from the same image.
 */
export async function wake(ctx: EngineContext, demo: Demo): Promise<void> {
  if (demo.status !== "asleep") return;
  const spec = ctx.specFor(demo);
  const instance = newestInstance(demo);
  demo.lastSeenAt = ctx.now();
  toStatus(ctx, demo, "starting", "starting");
  await fallingAsleep.get(demo);
  if (!spec || !instance) return failDemo(ctx, demo, "its preview source is no longer configured");
  try {
    if (!instance.containerId) throw new Error("it has no container");
    await ctx.options.runtime.restart(instance.containerId);
  } catch (error) {
    ctx.logger.warn(`preview ${demo.id}: its stopped container could not start (${(error as Error).message}); starting a new one`);
    if (instance.containerId) await ctx.removeQuietly(instance.containerId);
    demo.instances = [];
    return runLaunch(ctx, demo, { ...spec, image: instance.image });
  }
  toHealth(instance, "starting");
  toStep(demo, "waiting-for-app");
  await finishLaunch(ctx, demo, instance, spec.readiness, ctx.now());
}
