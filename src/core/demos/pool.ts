// Warm pools: containers started and routed ahead of visitors, handed out with a lease change only.
import type { AppSpec as AppConfig } from "../app-spec.js";
import type { EngineContext, Ports } from "../context.js";
import { hostFor } from "../routing/naming.js";
import { runLaunch } from "./launch.js";
import { demoMemory } from "./admission.js";
import { memoryAllows } from "./waiting-line.js";
import type { Demo } from "../model.js";

/** An unclaimed warm container is recycled after this long, so a pool never runs stale for days. */
const POOL_IDLE_MS = 6 * 3_600_000;

/** After a pool member fails to start, its app's pool waits a while before trying again (not a crash loop). */
export class PoolPauses {
  private readonly until = new Map<string, number>();

  /** The later pause wins: a failure's short one never lifts a hold until restart (stop --all's). */
  pause(app: string, until: number): void {
    this.until.set(app, Math.max(this.until.get(app) ?? 0, until));
  }

  paused(app: string, now: number): boolean {
    return (this.until.get(app) ?? 0) > now;
  }
}

/** Keeps each app's warm pool full; members start (and get routed) like any demo. */
export function ensurePools(ctx: EngineContext, newId: () => string): void {
  if (ctx.shuttingDown) return;
  const now = ctx.now();
  for (const [name, app] of Object.entries(ctx.options.apps)) {
    if (app.pool <= 0 || ctx.poolPauses.paused(name, now)) continue;
    let members = 0;
    for (const demo of ctx.registry.values()) if (demo.pooled && demo.app === name) members += 1;
    for (; members < app.pool; members += 1) {
      // The pool is made of what memory is left: it never keeps a visitor's launch waiting.
      if (!memoryAllows(ctx, demoMemory(app))) return;
      const id = newId();
      const demo: Demo = { id, kind: "visitor", app: name, host: hostFor(id, ctx.options.domain), createdAt: now, expiresAt: now + POOL_IDLE_MS, status: "starting", step: "creating", pooled: true, instances: [] };
      ctx.registry.add(demo);
      ctx.track(runLaunch(ctx, demo, app));
    }
  }
}

export function readyPoolMember(ctx: Ports<"registry">, app: string): Demo | undefined {
  for (const demo of ctx.registry.values()) if (demo.pooled && demo.app === app && demo.status === "ready") return demo;
  return undefined;
}

/**
 * Hands a warm container to a visitor: a lease change only, no container start, no nginx reload.
 * The lease is on disk before anyone learns the URL, so a restart never gives it to someone else.
 */
export async function claim(ctx: Ports<"now" | "registry" | "saver">, demo: Demo, app: AppConfig, owner: string | undefined): Promise<void> {
  delete demo.pooled;
  demo.expiresAt = ctx.now() + app.ttl;
  if (owner) demo.owner = owner;
  else delete demo.owner;
  ctx.registry.keepLease(demo);
  await ctx.saver.save();
}

/** Warm containers per app, for /api/status. */
export function poolStatus(ctx: Ports<"options" | "registry">): Record<string, { ready: number; starting: number }> {
  const status: Record<string, { ready: number; starting: number }> = {};
  for (const [name, app] of Object.entries(ctx.options.apps)) if (app.pool > 0) status[name] = { ready: 0, starting: 0 };
  for (const demo of ctx.registry.values()) {
    if (!demo.pooled || !status[demo.app]) continue;
    if (demo.status === "ready") status[demo.app]!.ready += 1;
    else status[demo.app]!.starting += 1;
  }
  return status;
}
