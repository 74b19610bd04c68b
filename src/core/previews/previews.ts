// Previews in the engine: a built image served at its preview's host, started once and replaced after.
import { toStatus } from "../lifecycle.js";
import { waitUntil, type EngineContext, type Ports } from "../context.js";
import type { AppSpec } from "../app-spec.js";
import { DomainError } from "../errors.js";
import { runLaunch } from "../demos/launch.js";
import { newestInstance, type Demo } from "../model.js";
import { hostFor } from "../routing/naming.js";
import { startReplacement } from "../demos/replacement.js";
import type { ReplacementPorts } from "../demos/replacement.js";
import { planIdleStops, putToSleep, wake } from "./preview-sleep.js";

export { planIdleStops } from "./preview-sleep.js";

/**
 * The preview `label` of `source` serves `image`. A new preview starts like a launch; a running one whose
 * image differs (its branch moved) is replaced with zero downtime; every request extends its lease by `keep`.
 */
export function servePreview(ctx: EngineContext, source: string, label: string, image: string, options: ServeOptions = {}): Demo {
  const spec = ctx.options.previews?.[source];
  if (!spec) throw new DomainError({ code: "unknown-source", asked: source, allowed: Object.keys(ctx.options.previews ?? {}) });
  const now = ctx.now();
  const existing = ctx.registry.get(label);
  if (existing) {
    if (existing.kind !== "preview") throw new DomainError({ code: "not-replaceable", id: label, status: `a ${existing.kind} demo` });
    // Whoever built the newest image decides: an untrusted push takes the secrets away, a trusted one gives them back.
    if (options.withoutEnv) existing.withoutEnv = true;
    else delete existing.withoutEnv;
    if (options.labels) existing.extraLabels = options.labels;
    if (options.facts) existing.preview = options.facts;
    existing.expiresAt = Math.min(Math.max(existing.expiresAt, now + spec.ttl), existing.hardEndAt ?? Infinity);
    // Kept as a lease: the label written at creation cannot change.
    ctx.registry.keepLease(existing);
    if (existing.status === "asleep") {
      if (targetImage(existing) === image) ctx.track(wake(ctx, existing));
      else ctx.track(restartAsleepWith(ctx, existing, { ...(ctx.specFor(existing) ?? spec), image }));
    } else if (targetImage(existing) === image) existing.wantedImage = undefined;
    else {
      // Its branch moved while it was starting or being replaced: the newest image is applied once it settles.
      const waiting = existing.wantedImage !== undefined;
      existing.wantedImage = image;
      if (!waiting) ctx.track(replaceWhenSettled(ctx, existing));
    }
    void ctx.saver.save();
    return existing;
  }
  const hardEnd = spec.maxLife !== undefined ? { hardEndAt: now + spec.maxLife } : {};
  const demo: Demo = { id: label, kind: "preview", app: source, host: hostFor(label, ctx.options.domain), createdAt: now, expiresAt: Math.min(now + spec.ttl, hardEnd.hardEndAt ?? Infinity), ...hardEnd, status: "starting", step: "creating", instances: [], routeEarly: !spec.seed, ...(options.withoutEnv ? { withoutEnv: true } : {}), ...(options.labels ? { extraLabels: options.labels } : {}), ...(options.facts ? { preview: options.facts } : {}) };
  ctx.registry.add(demo);
  // The hard end is not on the container's labels: it lives in the lease, from the start.
  if (demo.hardEndAt !== undefined) ctx.registry.keepLease(demo);
  ctx.track(runLaunch(ctx, demo, { ...spec, image, ...(options.withoutEnv ? { env: {} } : {}) }));
  void ctx.saver.save();
  return demo;
}

/** The image the preview serves or is on its way to: a running replacement's, else its newest instance's. */
function targetImage(demo: Demo): string | undefined {
  return demo.replacement?.status === "running" ? demo.replacement.image : newestInstance(demo)?.image;
}

/** Waits until the preview is ready with no replacement running, then replaces it by the newest wanted image. */
async function replaceWhenSettled(ctx: ReplacementPorts, demo: Demo): Promise<void> {
  for (;;) {
    if (ctx.closed || !ctx.registry.isLive(demo) || demo.status === "failed") return;
    const image = demo.wantedImage;
    if (image === undefined) return;
    if (demo.status === "ready" && demo.replacement?.status !== "running") {
      if (targetImage(demo) === image) {
        demo.wantedImage = undefined;
        return;
      }
      try {
        await startReplacement(ctx, demo.id, image);
      } catch (error) {
        ctx.logger.warn(`replacing preview ${demo.id} by ${image} could not start: ${(error as Error).message}`);
        demo.wantedImage = undefined;
        return;
      }
      // A newer image may arrive while this one is applied: the loop looks again once it settles.
      if (demo.wantedImage === image) demo.wantedImage = undefined;
      if (demo.wantedImage === undefined) return;
    }
    // Not ready yet, or a replacement runs: look again when the demo moves (or a newer image is wanted).
    await waitUntil(ctx, () => !ctx.registry.isLive(demo) || demo.status === "failed" || demo.wantedImage !== image || (demo.status === "ready" && demo.replacement?.status !== "running"));
  }
}

/**
 * Resolves once the preview serves `image` (ready, no replacement under way); throws with the reason when it
 * ended or its replacement by this image failed. The build runner waits on it to call a build ready.
 */
export async function awaitPreview(ctx: Ports<"closed" | "registry" | "sleep" | "stopping">, label: string, image: string): Promise<void> {
  for (;;) {
    const demo = ctx.registry.get(label);
    if (!demo) throw new Error(ctx.registry.getEnded(label)?.reason ?? "the preview ended");
    if (demo.replacement?.status === "failed" && demo.replacement.image === image && demo.wantedImage === undefined) throw new Error(demo.replacement.reason ?? "its replacement failed");
    const settled = demo.replacement?.status !== "running" && demo.wantedImage === undefined;
    if ((demo.status === "ready" || demo.status === "asleep") && settled) {
      if (targetImage(demo) === image) return;
      // A newer build of the same branch took its place meanwhile: this build's job is done.
      if (demo.replacement?.image !== image) return;
    }
    if (ctx.closed) throw new Error("the controller is shutting down");
    const seen = ctx.registry.transitions.count;
    await waitUntil(ctx, () => ctx.registry.transitions.count !== seen);
  }
}

/** Requests nginx saw (or we served) for these preview labels: they count as use, for idle stop and `keep`. */
export function sawPreviewRequests(ctx: Ports<"now" | "registry" | "saver" | "specFor">, labels: Iterable<string>): void {
  const now = ctx.now();
  let leaseMoved = false;
  for (const label of labels) {
    const demo = ctx.registry.get(label);
    if (!demo || demo.kind !== "preview") continue;
    demo.lastSeenAt = now;
    const keep = ctx.specFor(demo)?.ttl;
    // The lease moves in steps of a minute at most once a minute: a busy preview costs no state write per request.
    if (keep !== undefined && Math.min(now + keep, demo.hardEndAt ?? Infinity) - demo.expiresAt > 60_000) {
      demo.expiresAt = Math.min(now + keep, demo.hardEndAt ?? Infinity);
      ctx.registry.keepLease(demo);
      leaseMoved = true;
    }
  }
  if (leaseMoved) void ctx.saver.save();
}

/**
 * A preview started fresh (its page's "Start fresh"): every container goes, and with the last the environment's
 * volumes (its database's rows), then the image it serves starts again as at its first launch.
 */
export function startFresh(ctx: EngineContext, label: string): Demo {
  const { demo, image } = settledPreview(ctx, label);
  ctx.track(restartAsleepWith(ctx, demo, { ...ctx.specFor(demo)!, image }));
  void ctx.saver.save();
  return demo;
}

/** A preview that serves (or sleeps) with nothing under way, and the image it serves; refused in words otherwise. */
function settledPreview(ctx: EngineContext, label: string): { demo: Demo; image: string } {
  const demo = ctx.registry.get(label);
  if (!demo || demo.kind !== "preview") throw new DomainError({ code: "no-such-demo", id: label });
  const image = targetImage(demo);
  const busy = demo.replacement?.status === "running" || demo.wantedImage !== undefined;
  if ((demo.status !== "ready" && demo.status !== "asleep") || busy || !image || !ctx.specFor(demo)) throw new DomainError({ code: "not-replaceable", id: label, status: busy ? "being replaced by a newer build" : demo.status });
  return { demo, image };
}

/**
 * A preview's own environment variables over its source's (a pull request that needs a feature flag, say), applied
 * without a rebuild: a ready preview is replaced with zero downtime, an asleep one starts again with them. An empty
 * map takes them away. A preview built from a fork nobody vouched for gets none (it gets no configured env at all).
 */
export async function setPreviewEnv(ctx: EngineContext, label: string, env: Record<string, string>): Promise<Demo> {
  if (ctx.registry.get(label)?.withoutEnv) throw new DomainError({ code: "not-replaceable", id: label, status: "built from a fork nobody vouched for, so it gets no configured environment" });
  const { demo, image } = settledPreview(ctx, label);
  const before = demo.envOverrides;
  if (Object.keys(env).length > 0) demo.envOverrides = env;
  else delete demo.envOverrides;
  try {
    if (demo.status === "asleep") ctx.track(restartAsleepWith(ctx, demo, { ...ctx.specFor(demo)!, image }));
    else await startReplacement(ctx, label, image);
  } catch (error) {
    if (before) demo.envOverrides = before;
    else delete demo.envOverrides;
    throw error;
  }
  void ctx.saver.save();
  return demo;
}

/** An asleep preview whose branch moved: its stopped container goes and the new image starts in its place. */
async function restartAsleepWith(ctx: EngineContext, demo: Demo, spec: AppSpec): Promise<void> {
  const old = demo.instances;
  toStatus(ctx, demo, "starting", "creating");
  demo.instances = [];
  for (const instance of old) if (instance.containerId) await ctx.removeQuietly(instance.containerId);
  await runLaunch(ctx, demo, spec);
}

export interface ServeOptions {
  /** Built from a fork nobody vouched for: no configured env. */
  withoutEnv?: boolean;
  /** Extra container labels of the instances started from now on. */
  labels?: Record<string, string>;
  /** The branch, commit and pull request the image was built from (its containers' DEMO_BRANCH, DEMO_COMMIT, DEMO_PR). */
  facts?: import("../demos/demo-env.js").PreviewFacts;
}

/** What the HTTP layer and the controller call about previews. */
export interface PreviewOps {
  serve(source: string, label: string, image: string, options?: ServeOptions): Demo;
  /** Serves a build's image (serve, above) and resolves once the preview serves it: a build's one call to the core. */
  serveBuilt(source: string, label: string, image: string, options?: ServeOptions): Promise<void>;
  sawRequests(labels: Iterable<string>): void;
  /** Wakes an asleep preview (in the background); true when it was asleep. */
  wake(label: string): boolean;
  /** Starts a ready or asleep preview fresh: new containers and volumes from the image it serves. */
  startFresh(label: string): Demo;
  /** Puts a ready preview to sleep now, as an idle one is (a comment's `stop`); true when it was ready. */
  sleep(label: string): Promise<boolean>;
  /** Sets a preview's own environment variables (an empty map clears them) and applies them without a rebuild. */
  setEnv(label: string, env: Record<string, string>): Promise<Demo>;
  /** Puts previews idle for their source's idleStop to sleep (the reaper calls it when idle tracking works). */
  sleepIdle(): Promise<void>;
}

export function previewOps(ctx: EngineContext): PreviewOps {
  return {
    serve: (source, label, image, options) => servePreview(ctx, source, label, image, options),
    async serveBuilt(source, label, image, options) {
      servePreview(ctx, source, label, image, options);
      await awaitPreview(ctx, label, image);
    },
    sawRequests: (labels) => sawPreviewRequests(ctx, labels),
    startFresh: (label) => startFresh(ctx, label),
    setEnv: (label, env) => setPreviewEnv(ctx, label, env),
    async sleep(label) {
      const demo = ctx.registry.get(label);
      if (demo?.status !== "ready" || demo.replacement?.status === "running") return false;
      await putToSleep(ctx, demo);
      return true;
    },
    wake(label) {
      const demo = ctx.registry.get(label);
      if (demo?.status !== "asleep") return false;
      ctx.track(wake(ctx, demo));
      return true;
    },
    async sleepIdle() {
      const plan = () => planIdleStops(ctx.registry.values(), ctx.now(), (demo) => ctx.specFor(demo)?.idleStop);
      let idle = plan();
      // The log is read every few seconds; a preview that looks idle may have requests not yet read.
      if (idle.length > 0 && ctx.options.readSeenRequests) {
        await ctx.options.readSeenRequests().catch((error) => ctx.logger.warn(`reading the requests nginx logged: ${(error as Error).message}`));
        idle = plan();
      }
      await Promise.all(idle.map((demo) => putToSleep(ctx, demo)));
    },
  };
}
