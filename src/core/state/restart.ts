// What a start takes back from the state file besides Docker's containers: the waiting line, and launches the last
// run accepted (their visitors have the URL) but never handed to Docker.
import type { EngineContext } from "../context.js";
import { runLaunch } from "../demos/launch.js";
import type { EngineState } from "../runtime.js";
import { acceptedDemo } from "../demos/waiting-line.js";

export function restoreAccepted(ctx: EngineContext, state: EngineState): void {
  const now = ctx.now();
  for (const waiting of state.queued) {
    if (!ctx.options.apps[waiting.app] || ctx.registry.isTaken(waiting.id)) continue;
    // A restart is not the visitor's fault: their place is kept and their page gets a fresh grace period.
    ctx.registry.add({ ...acceptedDemo(ctx, waiting, "queued"), lastSeenAt: now });
    ctx.registry.queue.push(waiting.id);
  }
  for (const launch of state.starting ?? []) {
    const app = ctx.options.apps[launch.app];
    if (!app || ctx.registry.isTaken(launch.id)) continue;
    if (launch.queuedAt + app.ttl <= now) {
      ctx.registry.recordEnded({ id: launch.id, app: launch.app, status: "expired", reason: "its time box ended", endedAt: now }, now);
      continue;
    }
    // Its visitor already has the URL: a launch the last run accepted but never handed to Docker starts now.
    const demo = acceptedDemo(ctx, launch, "starting");
    ctx.registry.add(demo);
    ctx.track(runLaunch(ctx, demo, app));
  }
}
