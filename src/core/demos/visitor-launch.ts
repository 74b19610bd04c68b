// A visitor's launch: refused, given their live demo back, a warm pool member, a new demo, or a place in line.
import { admit, demoMemory, networkOf, networkRateKey, resolveApp } from "./admission.js";
import type { EngineContext, Ports } from "../context.js";
import { DomainError } from "../errors.js";
import { runLaunch } from "./launch.js";
import { LaunchRateLimiter } from "./limits.js";
import type { Demo } from "../model.js";
import { claim, ensurePools, readyPoolMember } from "./pool.js";
import { claimPrepared } from "./prepared.js";
import { acceptedDemo, memoryInUse } from "./waiting-line.js";

export interface LaunchResult {
  demo: Demo;
  /** False when the visitor already had a live demo and gets that one back. */
  created: boolean;
}

/** Visitors' launches, with the rate limiter that is theirs alone (per client and per network). */
export class VisitorLaunches {
  private readonly rate: LaunchRateLimiter;

  constructor(private readonly ctx: EngineContext) {
    this.rate = new LaunchRateLimiter(ctx.options.limits.launchesPerClient, ctx.options.limits.launchWindow);
  }

  /** Answers at once; the container is created and followed in the background. */
  launch(appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult> {
    return launchForVisitor(this.ctx, this.rate, appName, owner, requestId);
  }

  /** Forgets launches older than the window (the reaper asks now and then). */
  prune(now: number): void {
    this.rate.prune(now);
  }
}

async function launchForVisitor(ctx: EngineContext, rate: LaunchRateLimiter, appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult> {
  const newId = () => ctx.newUniqueId();
  if (ctx.shuttingDown) {
    ctx.emit({ type: "launch-refused", app: String(appName), reason: "shutting-down" });
    throw new DomainError({ code: "shutting-down", retryAfterSeconds: 5 });
  }
  const { name, app } = resolveOrRefuse(ctx, appName);
  const now = ctx.now();
  let admission: ReturnType<typeof admit>;
  try {
    // Memory is counted only under limits.memory: without it a launch walks no demo for it.
    const memory = ctx.options.limits.memory === undefined ? undefined : { inUse: memoryInUse(ctx), need: readyPoolMember(ctx, name) ? 0 : demoMemory(app) };
    admission = admit({ demos: ctx.registry.all(), queued: ctx.registry.queue.length, limits: ctx.options.limits, owner, ttl: app.ttl, rate: rate, now, ...(memory ? { memory } : {}) });
  } catch (error) {
    ctx.emit({ type: "launch-refused", app: name, reason: error instanceof DomainError && (error.data.code === "rate-limited" || error.data.code === "network-full") ? "rate-limited" : "full" });
    throw error;
  }
  if (admission.decision === "existing") return { demo: admission.demo, created: false };
  // Below the free-disk floor nothing new starts; a visitor who has a demo still gets it back (above).
  const lowDisk = ctx.gate.closedBy;
  if (lowDisk) {
    ctx.emit({ type: "launch-refused", app: name, reason: "full" });
    throw new DomainError({ code: "disk-low", ...lowDisk, retryAfterSeconds: 60 });
  }
  if (owner) {
    rate.record(owner, now);
    rate.record(networkRateKey(networkOf(owner)), now);
  }
  if (admission.decision === "start") {
    const warm = readyPoolMember(ctx, name);
    if (warm) {
      await claim(ctx, warm, app, owner);
      if (requestId) warm.requestId = requestId;
      ctx.emit({ type: "launch-accepted", id: warm.id, app: name, queued: false, warm: true, ...(requestId ? { requestId } : {}) });
      ensurePools(ctx, newId);
      return { demo: warm, created: true };
    }
    // A container created ahead: started now, its route already in nginx (the reaper makes the next one).
    const ahead = await claimPrepared(ctx, name, app, owner, requestId);
    if (ahead) {
      ctx.emit({ type: "launch-accepted", id: ahead.id, app: name, queued: false, warm: false, ...(requestId ? { requestId } : {}) });
      return { demo: ahead, created: true };
    }
  }
  const startsNow = admission.decision === "start";
  const demo: Demo = {
    ...acceptedDemo(ctx, { id: newId(), app: name, queuedAt: now, ...(owner ? { client: owner } : {}) }, startsNow ? "starting" : "queued"),
    ...(startsNow ? {} : { lastSeenAt: now }),
    ...(requestId ? { requestId } : {}),
  };
  ctx.registry.add(demo);
  if (startsNow) ctx.track(runLaunch(ctx, demo, app));
  else ctx.registry.queue.push(demo.id);
  // On disk before the visitor learns the URL, so a restart never forgets a launch it accepted.
  await ctx.saver.save();
  ctx.emit({ type: "launch-accepted", id: demo.id, app: name, queued: !startsNow, warm: false, ...(requestId ? { requestId } : {}) });
  return { demo, created: true };
}

function resolveOrRefuse(ctx: Ports<"emit" | "options">, appName: unknown): ReturnType<typeof resolveApp> {
  try {
    return resolveApp(appName, ctx.options.apps);
  } catch (error) {
    ctx.emit({ type: "launch-refused", app: typeof appName === "string" ? appName.slice(0, 40) : "?", reason: "unknown-app" });
    throw error;
  }
}
