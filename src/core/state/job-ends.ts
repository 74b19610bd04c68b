// What rewinds and snapshots share: the live demo a job is for, and the end of a job (its event and a save).
import type { Ports } from "../context.js";
import { DomainError } from "../errors.js";
import type { Job } from "./jobs.js";
import type { Demo } from "../model.js";

/** A live demo of a visitor, a preview or a shared demo (not a warm pool member); an ended one is said so. */
export function liveDemo(ctx: Ports<"registry">, demoId: string): Demo {
  const demo = ctx.registry.get(demoId);
  if (demo && !demo.pooled) return demo;
  throw new DomainError(ctx.registry.getEnded(demoId) ? { code: "demo-ended", id: demoId } : { code: "no-such-demo", id: demoId });
}

/** Ends a rewind or snapshot job; a rewind's end is an event (metrics, the log). */
export function finishJob(ctx: Ports<"emit" | "now" | "saver">, job: Job, status: "done" | "failed", reason?: string): void {
  job.status = status;
  job.finishedAt = ctx.now();
  if (reason) job.reason = reason;
  if (job.kind === "rewind") ctx.emit({ type: "rewound", id: job.demoId, app: job.app, source: job.source, outcome: status, seconds: (job.finishedAt - (job.startedAt ?? job.createdAt)) / 1000, ...(reason ? { reason } : {}) });
  void ctx.saver.save();
}
