// Previews in the engine: a built image served at its preview's host, started once and replaced after.
import type { EngineContext } from "./context.js";
import { DomainError } from "./errors.js";
import { runLaunch } from "./launch.js";
import { healthyInstances, type Demo } from "./model.js";
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
    const serving = healthyInstances(existing).map((instance) => instance.image);
    const busy = existing.status !== "ready" || existing.replacement?.status === "running";
    if (!busy && !serving.includes(image)) void startReplacement(ctx, label, image).catch((error: unknown) => ctx.logger.warn(`replacing preview ${label} failed to start: ${(error as Error).message}`));
    void ctx.saver.save();
    return existing;
  }
  const demo: Demo = { id: label, kind: "preview", app: source, host: hostFor(label, ctx.options.domain), createdAt: now, expiresAt: now + spec.ttl, status: "starting", step: "creating", instances: [] };
  ctx.registry.add(demo);
  ctx.track(runLaunch(ctx, demo, { ...spec, image }));
  void ctx.saver.save();
  return demo;
}
