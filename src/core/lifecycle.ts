// The only place a demo's status and step and an instance's health change. The registry makes these fields
// observable (core/transitions.ts), so a change here is what wakes every flow waiting on that demo; a status change
// asks for a save here (the state file keeps the line, accepted launches and asleep previews, all read from statuses;
// the saver coalesces), and being ready and ending emit their events here.
import type { Ports } from "./context.js";
import type { Demo, DemoStatus, Instance, InstanceHealth, LaunchStep } from "./model.js";
import type { EndedDemo } from "./runtime.js";

/** The demo moves to another step of its launch (or wake); its status stays. */
export function toStep(demo: Demo, step: LaunchStep): void {
  demo.step = step;
}

/** The demo's status changes, with the step it is at now when that changes too; the state file follows. */
export function toStatus(ctx: Ports<"saver">, demo: Demo, status: DemoStatus, step?: LaunchStep): void {
  const changed = demo.status !== status;
  demo.status = status;
  if (step) demo.step = step;
  if (changed) void ctx.saver.save();
}

/** Serving: routed, confirmed by nginx, and the launch done. */
export function toReady(ctx: Ports<"saver">, demo: Demo): void {
  toStatus(ctx, demo, "ready", "done");
}

/**
 * A launch, start again or wake is served: ready, and (but for a warm-pool member) the `ready` event with how long
 * it took since `since`. A preview's idle clock starts here: a slow build, start or wake is not idleness.
 */
export function launched(ctx: Ports<"emit" | "now" | "saver">, demo: Demo, since: number): void {
  toReady(ctx, demo);
  if (demo.kind === "preview") demo.lastSeenAt = ctx.now();
  if (!demo.pooled) ctx.emit({ type: "ready", id: demo.id, app: demo.app, kind: demo.kind, seconds: (ctx.now() - since) / 1000, ...(demo.requestId ? { requestId: demo.requestId } : {}) });
}

/** Failed, with the words for its page and the API (ending it is the caller's next step). */
export function toFailed(demo: Demo, reason: string): void {
  demo.status = "failed";
  demo.reason = reason;
}

/** Instances start, serve (and so are routed) or drain (out of the routes, finishing what they serve). */
export function toHealth(instances: Instance | Iterable<Instance>, health: InstanceHealth): void {
  for (const instance of Symbol.iterator in instances ? instances : [instances]) instance.health = health;
}

/**
 * Ends a demo: out of the registry, its status (a failure keeps its own), the `ended` event, its ended record, a
 * save; the freed slot goes to the first in line at once. Route first, containers second: nginx never points at a
 * container that is gone (a failed write was reported by the publisher; the reaper's next pass retries it).
 */
export async function endDemo(ctx: Ports<"emit" | "now" | "promoteQueued" | "publishRoutes" | "registry" | "removeQuietly" | "restarts" | "saver">, demo: Demo, status: EndedDemo["status"], reason: string): Promise<void> {
  if (!ctx.registry.remove(demo)) return;
  ctx.restarts.forget(demo.id);
  if (demo.status !== "failed") demo.status = status;
  if (!demo.pooled) ctx.emit({ type: "ended", id: demo.id, app: demo.app, kind: demo.kind, status, reason, ...(demo.requestId ? { requestId: demo.requestId } : {}) });
  ctx.registry.recordEnded({ id: demo.id, app: demo.app, status, reason, endedAt: ctx.now() }, ctx.now());
  ctx.promoteQueued();
  void ctx.saver.save();
  await ctx.publishRoutes().catch(() => {});
  await Promise.all(demo.instances.map((instance) => (instance.containerId ? ctx.removeQuietly(instance.containerId) : undefined)));
}
