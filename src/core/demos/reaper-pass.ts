// One pass of the reaper: expiry and the line from memory every tick, idle previews, shared demos, a Docker sync every few ticks.
import type { EngineContext } from "../context.js";
import { planExpiry } from "./expiry.js";
import type { PreviewOps } from "../previews/previews.js";
import type { SharedDemos } from "../shared/shared.js";
import type { VisitorLaunches } from "./visitor-launch.js";
import { ensurePools } from "./pool.js";
import { ensurePrepared } from "./prepared.js";
import { RuntimeUnavailableError } from "../runtime.js";
import { syncWithDocker } from "../instances/sync.js";

const DOCKER_SYNC_EVERY_TICKS = 5;
const DOCKER_SYNC_FOLLOWING_TICKS = 180;
const QUEUE_ABANDON_MS = 45_000;
/** A demo served through the starting gate keeps it at most about this long (see reapPass). */
const UNGATE_WITHIN_MS = 15_000;

/** The reaper's passes, counted: some work runs every pass, some every few. */
export class ReaperPasses {
  private ticks = 0;

  constructor(private readonly ctx: EngineContext, private readonly parts: { visitors: VisitorLaunches; previews: PreviewOps; shared: SharedDemos }) {}

  pass(): Promise<void> {
    this.ticks += 1;
    return reapPass(this.ctx, this.parts, this.ticks);
  }
}

async function reapPass(ctx: EngineContext, parts: { visitors: VisitorLaunches; previews: PreviewOps; shared: SharedDemos }, tick: number): Promise<void> {
  const now = ctx.now();
  const endings = planExpiry(ctx.registry.values(), now, ctx.options.queueAbandonMs ?? QUEUE_ABANDON_MS);
  // A visitor promoted meanwhile is no longer waiting in line: only what still holds is carried out.
  await Promise.all(endings.filter((ending) => ending.status === "expired" || ending.demo.status === "queued").map((ending) => ctx.end(ending.demo, ending.status, ending.reason)));
  ctx.promoteQueued();
  ensurePools(ctx, () => ctx.newUniqueId());
  ensurePrepared(ctx);
  parts.shared.ensure();
  // Only while nginx is known to log preview requests: a preview is never stopped for want of a log.
  if (ctx.options.idleTracking?.()) await parts.previews.sleepIdle();
  if (tick % 60 === 0) parts.visitors.prune(now);
  // Demos served through the starting gate lose it here, one write for all of them: once a burst is over (a
  // reload each second while it lasts would only slow its starts), or when it has lasted a while.
  const { staleSince } = ctx.routing;
  if (staleSince !== undefined && (now - staleSince >= UNGATE_WITHIN_MS || !ctx.registry.anyStarting())) await ctx.publishRoutes().catch(() => {});
  // A save that failed (full disk) is tried again even when nothing changes.
  if (ctx.saver.failing && tick % DOCKER_SYNC_EVERY_TICKS === 0) void ctx.saver.save();
  // While Docker is away (or just came back), ask every tick: recovery should not wait for the 5th. While its event
  // stream is followed, deaths and removals are known at once: the listing is a safety net, every few minutes.
  const every = ctx.watch.following ? DOCKER_SYNC_FOLLOWING_TICKS : DOCKER_SYNC_EVERY_TICKS;
  // The routes file is put back within a few seconds when the disk lost it (a directory removed, a stale copy).
  if (tick % DOCKER_SYNC_EVERY_TICKS === 1) await ctx.routing.reassert();
  if (tick % every === 1 || ctx.watch.listingDue || ctx.outage.isDown || ctx.outage.aroundOutage) {
    ctx.watch.listingDue = false;
    try {
      await syncWithDocker(ctx);
    } catch (error) {
      if (!(error instanceof RuntimeUnavailableError)) throw error;
      ctx.outage.lost(error.message, ctx.closed);
      return;
    }
    // A failed write was reported by the publisher; the next pass tries again.
    await ctx.publishRoutes().catch(() => {});
    await parts.shared.checkHealth();
  }
}
