// One pass of the reaper: expiry and the line from memory every tick, idle previews, shared demos, a Docker sync every few ticks.
import type { DemoEngine } from "./engine.js";
import { planExpiry } from "./expiry.js";
import type { LaunchRateLimiter } from "./limits.js";
import { ensurePools } from "./pool.js";
import { RuntimeUnavailableError } from "./runtime.js";
import { syncWithDocker } from "./sync.js";

const DOCKER_SYNC_EVERY_TICKS = 5;
const QUEUE_ABANDON_MS = 45_000;

export async function reapPass(engine: DemoEngine, tick: number, rate: LaunchRateLimiter, newId: () => string): Promise<void> {
  const now = engine.now();
  const endings = planExpiry(engine.registry.values(), now, engine.options.queueAbandonMs ?? QUEUE_ABANDON_MS);
  // A visitor promoted meanwhile is no longer waiting in line: only what still holds is carried out.
  await Promise.all(endings.filter((ending) => ending.status === "expired" || ending.demo.status === "queued").map((ending) => engine.end(ending.demo, ending.status, ending.reason)));
  engine.promoteQueued();
  ensurePools(engine, newId);
  engine.shared.ensure();
  // Only while nginx is known to log preview requests: a preview is never stopped for want of a log.
  if (engine.options.idleTracking?.()) await engine.previews.sleepIdle();
  if (tick % 60 === 0) rate.prune(now);
  // A save that failed (full disk) is tried again even when nothing changes.
  if (engine.saver.failing && tick % DOCKER_SYNC_EVERY_TICKS === 0) void engine.saver.save();
  // While Docker is away (or just came back), ask every tick: recovery should not wait for the 5th.
  if (tick % DOCKER_SYNC_EVERY_TICKS === 1 || engine.outage.isDown || engine.outage.aroundOutage) {
    try {
      await syncWithDocker(engine);
    } catch (error) {
      if (!(error instanceof RuntimeUnavailableError)) throw error;
      engine.outage.lost(error.message, engine.closed);
      return;
    }
    // A failed write was reported by the publisher; the next pass tries again.
    await engine.publishRoutes().catch(() => {});
    await engine.shared.checkHealth();
  }
}
