// An operator's extension of a demo's time box, kept as a lease (labels cannot change) within fixed limits.
import type { Ports } from "../context.js";
import { DomainError } from "../errors.js";
import type { Demo } from "../model.js";

/** Limits of an admin's extension: a demo is a demo, not a server. */
const MIN_EXTENSION_MS = 1000;
const MAX_EXTENSION_MS = 24 * 3_600_000;
const MAX_REMAINING_MS = 48 * 3_600_000;

/** The new expiry is on disk before this returns: a restart must not cut the demo short by going back to its label. */
export async function extendLease(ctx: Ports<"emit" | "now" | "registry" | "saver">, id: string, byMs: number): Promise<Demo> {
  const demo = ctx.registry.get(id);
  if (!demo || demo.pooled) throw new DomainError({ code: "no-such-demo", id });
  if (demo.status === "queued") throw new DomainError({ code: "still-queued", id });
  if (demo.kind === "shared") throw new DomainError({ code: "shared-no-time-box", id });
  if (!(byMs >= MIN_EXTENSION_MS && byMs <= MAX_EXTENSION_MS)) throw new DomainError({ code: "extension-out-of-range", id, byMs, minMs: MIN_EXTENSION_MS, maxMs: MAX_EXTENSION_MS });
  const now = ctx.now();
  const expiresAt = Math.max(demo.expiresAt, now) + byMs;
  if (expiresAt - now > MAX_REMAINING_MS) throw new DomainError({ code: "too-much-time-left", id, maxRemainingMs: MAX_REMAINING_MS, wouldHaveMs: expiresAt - now });
  demo.expiresAt = expiresAt;
  ctx.registry.leases.set(id, { id, expiresAt, ...(demo.owner ? { client: demo.owner } : {}) });
  await ctx.saver.save();
  ctx.emit({ type: "extended", id, app: demo.app, byMs });
  return demo;
}
