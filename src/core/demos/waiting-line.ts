// The waiting line: visitors promoted as slots free, their place and wait, and who has left.
import { toStatus } from "../lifecycle.js";
import { demoMemory, estimateWait, memoryFits } from "./admission.js";
import type { EngineContext, Ports } from "../context.js";
import { runLaunch } from "./launch.js";
import type { Demo } from "../model.js";
import { hostFor } from "../routing/naming.js";
import type { AcceptedLaunch } from "../runtime.js";

/** Starts the first in line while there are free slots; their time box starts now. */
export function promoteQueued(ctx: EngineContext): void {
  const { registry } = ctx;
  while (!ctx.shuttingDown && registry.queue.length > 0 && registry.runningCount() < ctx.options.limits.maxDemos) {
    const head = registry.get(registry.queue[0]!);
    const headApp = head ? ctx.options.apps[head.app] : undefined;
    // The first in line waits until its demo's memory fits: nobody behind it jumps the line.
    if (head?.status === "queued" && headApp && !memoryAllows(ctx, demoMemory(headApp))) return;
    const id = registry.queue.shift()!;
    const demo = registry.get(id);
    const app = demo ? ctx.options.apps[demo.app] : undefined;
    if (!demo || demo.status !== "queued" || !app) continue;
    const now = ctx.now();
    demo.createdAt = now;
    demo.expiresAt = now + app.ttl;
    delete demo.lastSeenAt;
    toStatus(ctx, demo, "starting", "creating");
    ctx.track(runLaunch(ctx, demo, app));
  }
}

/** Whether a demo needing `need` bytes fits under limits.memory now; without a limit, at once (no walk over the demos). */
export function memoryAllows(ctx: Ports<"options" | "registry" | "specFor">, need: number): boolean {
  return ctx.options.limits.memory === undefined || memoryFits(ctx.options.limits, memoryInUse(ctx), need);
}

/** The memory every demo that is not waiting in line is given (visitors', the pool's, previews', shared replicas'). */
export function memoryInUse(ctx: Ports<"registry" | "specFor">): number {
  let bytes = 0;
  for (const demo of ctx.registry.values()) {
    if (demo.status === "queued") continue;
    const spec = ctx.specFor(demo);
    if (spec) bytes += demoMemory(spec) * Math.max(1, demo.instances.length);
  }
  return bytes;
}

/** Place in line (1 = next) and the estimated wait, for a queued demo. */
export function queueInfo(ctx: Ports<"now" | "options" | "registry">, id: string): { position: number; estimatedWaitSeconds: number } | undefined {
  const index = ctx.registry.queue.indexOf(id);
  const demo = ctx.registry.get(id);
  if (index < 0 || !demo) return undefined;
  const ttl = ctx.options.apps[demo.app]?.ttl ?? 600_000;
  return { position: index + 1, estimatedWaitSeconds: Math.ceil(estimateWait(ctx.registry.values(), index + 1, ttl, ctx.now()) / 1000) };
}

/** The visitor's page asked about their queued demo: they are still waiting. */
export function touch(ctx: Ports<"now" | "registry">, id: string): void {
  const demo = ctx.registry.get(id);
  if (demo?.status === "queued") demo.lastSeenAt = ctx.now();
}

/** A visitor's demo that has no container yet: waiting in line, or about to be created; its time box starts at queuedAt. */
export function acceptedDemo(ctx: Ports<"options">, launch: AcceptedLaunch, status: "queued" | "starting"): Demo {
  const ttl = ctx.options.apps[launch.app]?.ttl ?? 600_000;
  return {
    id: launch.id,
    kind: "visitor",
    app: launch.app,
    host: hostFor(launch.id, ctx.options.domain),
    createdAt: launch.queuedAt,
    expiresAt: launch.queuedAt + ttl,
    status,
    step: status === "queued" ? "queued" : "creating",
    ...(launch.client ? { owner: launch.client } : {}),
    instances: [],
  };
}
