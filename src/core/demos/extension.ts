// An operator's extension of a demo's time box, kept as a lease (labels cannot change) within fixed limits.
import type { Ports } from "../context.js";
import { DomainError } from "../errors.js";
import type { Demo } from "../model.js";

/** Limits of an extension: a visitor's demo is a demo, not a server. */
const MIN_EXTENSION_MS = 1000;
/** A preview lives for days (its source's `keep`): a review may need a month more, never a server's lifetime. */
const LIMITS = { visitor: { maxMs: 24 * 3_600_000, maxRemainingMs: 48 * 3_600_000 }, preview: { maxMs: 30 * 86_400_000, maxRemainingMs: 90 * 86_400_000 } };

/** The new expiry is on disk before this returns: a restart must not cut the demo short by going back to its label. */
export async function extendLease(ctx: Ports<"emit" | "now" | "registry" | "saver">, id: string, byMs: number): Promise<Demo> {
  const demo = ctx.registry.get(id);
  if (!demo || demo.pooled) throw new DomainError({ code: "no-such-demo", id });
  if (demo.status === "queued") throw new DomainError({ code: "still-queued", id });
  if (demo.kind === "shared") throw new DomainError({ code: "shared-no-time-box", id });
  const limits = demo.kind === "preview" ? LIMITS.preview : LIMITS.visitor;
  if (!(byMs >= MIN_EXTENSION_MS && byMs <= limits.maxMs)) throw new DomainError({ code: "extension-out-of-range", id, byMs, minMs: MIN_EXTENSION_MS, maxMs: limits.maxMs });
  const now = ctx.now();
  const expiresAt = Math.max(demo.expiresAt, now) + byMs;
  if (expiresAt - now > limits.maxRemainingMs) throw new DomainError({ code: "too-much-time-left", id, maxRemainingMs: limits.maxRemainingMs, wouldHaveMs: expiresAt - now });
  demo.expiresAt = expiresAt;
  // An extension moves a preview's hard end too: asked for by name, it is meant.
  if (demo.hardEndAt !== undefined) demo.hardEndAt = Math.max(demo.hardEndAt, expiresAt);
  ctx.registry.keepLease(demo);
  await ctx.saver.save();
  ctx.emit({ type: "extended", id, app: demo.app, byMs });
  return demo;
}
