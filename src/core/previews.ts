// Previews in the engine: a built image served at its preview's host, started once and replaced after.
import type { EngineContext } from "./context.js";
import { DomainError } from "./errors.js";
import { runLaunch } from "./launch.js";
import { newestInstance, type Demo } from "./model.js";
import { hostFor } from "./naming.js";
import { startReplacement } from "./replacement.js";

/**
 * The preview `label` of `source` serves `image`. A new preview starts like a launch; a running one whose
 * image differs (its branch moved) is replaced with zero downtime; every request extends its lease by `keep`.
 */
export function servePreview(ctx: EngineContext, source: string, label: string, image: string): Demo {
  const spec = ctx.options.previews?.[source];
  if (!spec) throw new DomainError({ code: "unknown-source", asked: source, allowed: Object.keys(ctx.options.previews ?? {}) });
  const now = ctx.now();
  const existing = ctx.registry.get(label);
  if (existing) {
    if (existing.kind !== "preview") throw new DomainError({ code: "not-replaceable", id: label, status: `a ${existing.kind} demo` });
    existing.expiresAt = Math.max(existing.expiresAt, now + spec.ttl);
    // Kept as a lease: the label written at creation cannot change.
    ctx.registry.leases.set(label, { id: label, expiresAt: existing.expiresAt });
    if (targetImage(existing) === image) delete existing.wantedImage;
    else {
      // Its branch moved while it was starting or being replaced: the newest image is applied once it settles.
      const waiting = existing.wantedImage !== undefined;
      existing.wantedImage = image;
      if (!waiting) ctx.track(replaceWhenSettled(ctx, existing));
    }
    void ctx.saver.save();
    return existing;
  }
  const demo: Demo = { id: label, kind: "preview", app: source, host: hostFor(label, ctx.options.domain), createdAt: now, expiresAt: now + spec.ttl, status: "starting", step: "creating", instances: [] };
  ctx.registry.add(demo);
  ctx.track(runLaunch(ctx, demo, { ...spec, image }));
  void ctx.saver.save();
  return demo;
}

/** The image the preview serves or is on its way to: a running replacement's, else its newest instance's. */
function targetImage(demo: Demo): string | undefined {
  return demo.replacement?.status === "running" ? demo.replacement.image : newestInstance(demo)?.image;
}

/** Waits until the preview is ready with no replacement running, then replaces it by the newest wanted image. */
async function replaceWhenSettled(ctx: EngineContext, demo: Demo): Promise<void> {
  for (;;) {
    if (ctx.closed || !ctx.registry.isLive(demo) || demo.status === "failed") return;
    const image = demo.wantedImage;
    if (image === undefined) return;
    if (demo.status === "ready" && demo.replacement?.status !== "running") {
      if (targetImage(demo) === image) {
        delete demo.wantedImage;
        return;
      }
      try {
        await startReplacement(ctx, demo.id, image);
      } catch (error) {
        ctx.logger.warn(`replacing preview ${demo.id} by ${image} could not start: ${(error as Error).message}`);
        delete demo.wantedImage;
        return;
      }
      // A newer image may arrive while this one is applied: the loop looks again once it settles.
      if (demo.wantedImage === image) delete demo.wantedImage;
      if (demo.wantedImage === undefined) return;
    }
    await ctx.sleep(250);
  }
}
