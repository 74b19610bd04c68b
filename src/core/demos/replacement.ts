// Zero-downtime replacement: start a new instance, wait until it answers, switch nginx to it, drain and remove the old.
import { toHealth } from "../lifecycle.js";
import type { AppSpec as AppConfig } from "../app-spec.js";
import { readinessFor, waitUntil, type Ports } from "../context.js";
import { describeError, DomainError } from "../errors.js";
import { awaitInstanceReady, createInstance, InstanceFailure } from "../instances/instances.js";
import { publishUntilServed } from "../routing/route-desk.js";
import type { Demo, Instance, ReplacementState } from "../model.js";
import { seedReplacement } from "../previews/preview-seed.js";

const DEFAULT_DRAIN_MS = 10_000;

/**
 * Checks that the demo can be replaced and starts the replacement in the background. The image defaults to
 * the app's configured one, resolved by the runtime now, so an image rebuilt under the same tag is picked up.
 */
/** What a replacement touches: starting an instance, routing it, draining the old one (rewinds to a snapshot use it too). */
export type ReplacementPorts = Ports<"closed" | "creating" | "emit" | "logger" | "now" | "options" | "outage" | "publishRoutes" | "registry" | "removeQuietly" | "restarts" | "routing" | "saver" | "shuttingDown" | "sleep" | "specFor" | "stopping" | "track">;

export async function startReplacement(ctx: ReplacementPorts, id: string, image: string | undefined): Promise<Demo> {
  const check = () => {
    const demo = ctx.registry.get(id);
    if (!demo || demo.pooled) throw new DomainError({ code: "no-such-demo", id });
    if (demo.status !== "ready") throw new DomainError({ code: "not-replaceable", id, status: demo.status });
    if (demo.replacement?.status === "running") throw new DomainError({ code: "replacement-running", id, image: demo.replacement.image });
    const app = ctx.specFor(demo);
    if (!app) throw new DomainError({ code: "not-replaceable", id, status: "of an app that is no longer configured" });
    // The file names each service's image: the replacement reads it again (and an image rebuilt under its tag).
    if (app.environment && demo.kind !== "preview" && image !== undefined && image !== app.image) throw new DomainError({ code: "not-for-environments", id, what: "its Compose file names each service's image, so it is not replaced by another (replace it without an image: the file is read again)" });
    return { demo, app };
  };
  // Checked before the image is looked for, and again after (the demo may have moved meanwhile).
  const before = check();
  const chosen = image ?? before.app.image;
  // A typo in the image is the caller's to hear now; Docker being away is not (the replacement waits for it).
  const exists = await ctx.options.runtime.imageExists(chosen).catch(() => true);
  if (!exists) throw new DomainError({ code: "missing-image", image: chosen });
  const { demo, app } = check();
  demo.replacement = { status: "running", image: chosen, startedAt: ctx.now() };
  void ctx.saver.save();
  ctx.track(runReplacement(ctx, demo, app, chosen));
  return demo;
}

function stillServing(ctx: Ports<"closed" | "registry">, demo: Demo): () => boolean {
  return () => !ctx.closed && ctx.registry.isLive(demo) && demo.status === "ready";
}

async function runReplacement(ctx: Ports<"closed" | "creating" | "emit" | "logger" | "now" | "options" | "outage" | "publishRoutes" | "registry" | "removeQuietly" | "restarts" | "routing" | "saver" | "shuttingDown" | "sleep" | "specFor" | "stopping">, demo: Demo, app: AppConfig, image: string): Promise<void> {
  let next: Instance | undefined;
  try {
    next = await createInstance(ctx, demo, app, image, stillServing(ctx, demo));
  } catch (error) {
    return finish(ctx, demo, "failed", error instanceof InstanceFailure ? error.message : `the new container could not be started (${describeError(error)})`);
  }
  if (next) await completeReplacement(ctx, demo, next);
  else if (!ctx.closed) await finish(ctx, demo, "failed", "the demo stopped serving before its new instance started");
}

/**
 * From a started new instance to the end: also where a replacement continues after a controller restart.
 * If the new instance fails, the old one keeps serving and the reason is on the demo.
 */
export async function completeReplacement(ctx: Ports<"closed" | "emit" | "logger" | "now" | "options" | "outage" | "publishRoutes" | "registry" | "removeQuietly" | "restarts" | "routing" | "saver" | "sleep" | "specFor" | "stopping">, demo: Demo, next: Instance): Promise<void> {
  const wanted = stillServing(ctx, demo);
  const readiness = readinessFor(ctx, demo);
  const result = await awaitInstanceReady(ctx, demo, next, readiness, ctx.now(), wanted);
  // A shutdown leaves the container for the next start to finish with; a demo that ended took it along.
  if (result.outcome === "abandoned") {
    if (!ctx.closed && ctx.registry.isLive(demo)) await discard(ctx, demo, next, "the demo stopped serving while its new instance started");
    return;
  }
  if (result.outcome === "failed") return discard(ctx, demo, next, result.reason);
  const old = demo.instances.filter((instance) => instance !== next && instance.health === "healthy");
  const spec = demo.kind === "preview" ? ctx.specFor(demo) : undefined;
  if (spec?.seed) {
    // A seeded preview's new instance gets its data before nginx sends it a request.
    const failure = await seedReplacement(ctx, demo, spec, next, old.at(-1));
    if (!wanted()) return;
    if (failure) return discard(ctx, demo, next, failure);
  }
  // One switch: nginx routes the host to the new instance only; the old one gets no new requests.
  toHealth(next, "healthy");
  toHealth(old, "draining");
  const confirmed = await publishUntilServed(ctx, wanted, `replacing demo ${demo.id}`);
  if (confirmed === undefined) return;
  if (!confirmed) {
    // Removing the old instance while nginx may still route to it would break the demo: switch back.
    toHealth(old, "healthy");
    return discard(ctx, demo, next, "nginx did not confirm the switch to the new instance (check the watcher)");
  }
  await finish(ctx, demo, "succeeded");
  await Promise.all(old.map((instance) => finishDrain(ctx, demo, instance)));
}

/**
 * Lets the requests nginx's old workers still send to an unrouted instance finish, then removes it. A shutdown
 * cuts the wait short and leaves the container (the next start drains it again); the demo's end removes it.
 */
export async function finishDrain(ctx: Ports<"closed" | "options" | "registry" | "removeQuietly" | "sleep" | "stopping">, demo: Demo, instance: Instance): Promise<void> {
  // The drain ends early only when the demo does (its end removes the container) or the engine closes.
  await waitUntil(ctx, () => !ctx.registry.isLive(demo), ctx.options.drainMs ?? DEFAULT_DRAIN_MS);
  if (ctx.closed || !ctx.registry.isLive(demo)) return;
  demo.instances = demo.instances.filter((candidate) => candidate !== instance);
  if (instance.containerId) await ctx.removeQuietly(instance.containerId);
}

async function discard(ctx: Ports<"emit" | "now" | "publishRoutes" | "registry" | "removeQuietly" | "saver">, demo: Demo, next: Instance, reason: string): Promise<void> {
  demo.instances = demo.instances.filter((instance) => instance !== next);
  await ctx.publishRoutes().catch(() => {});
  if (next.containerId) await ctx.removeQuietly(next.containerId);
  await finish(ctx, demo, "failed", reason);
}

async function finish(ctx: Ports<"emit" | "now" | "registry" | "saver">, demo: Demo, status: ReplacementState["status"], reason?: string): Promise<void> {
  if (!ctx.registry.isLive(demo) || !demo.replacement) return;
  demo.replacement = { ...demo.replacement, status, finishedAt: ctx.now(), ...(reason ? { reason } : {}) };
  if (status !== "running") ctx.emit({ type: "replaced", id: demo.id, app: demo.app, image: demo.replacement.image, outcome: status, seconds: (ctx.now() - demo.replacement.startedAt) / 1000, ...(reason ? { reason } : {}) });
  await ctx.saver.save();
}
