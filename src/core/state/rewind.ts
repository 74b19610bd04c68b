// Rewind as a job: a demo's database brought back to one of its app's state sources, all or nothing.
import { waitUntil, type Ports } from "../context.js";
import { describeError, DomainError } from "../errors.js";
import type { Job } from "./jobs.js";
import { finishJob, liveDemo } from "./job-ends.js";
import { healthyInstances, type Demo } from "../model.js";
import { startReplacement } from "../demos/replacement.js";
import { RestoreFailure, snapshotImage, type DumpSource } from "./state-sources.js";
import type { ReplacementPorts } from "../demos/replacement.js";

/** Checks the request and starts the job; a demo already being rewound gets its running job back. */
export function requestRewind(ctx: ReplacementPorts, demoId: string, sourceName: string | undefined, newJobId: () => string): { job: Job; created: boolean } {
  const demo = liveDemo(ctx, demoId);
  const state = ctx.specFor(demo)?.state;
  if (!state) throw new DomainError({ code: "no-state-sources", app: demo.app });
  const source = sourceName ?? state.default;
  if (!Object.hasOwn(state.sources, source)) throw new DomainError({ code: "unknown-state-source", app: demo.app, asked: source, allowed: Object.keys(state.sources) });
  // Only a dump needs the restorer; a snapshot is a replacement.
  if (state.sources[source]!.kind === "dump" && !ctx.options.restorer) throw new DomainError({ code: "no-state-sources", app: demo.app });
  const running = ctx.registry.jobs.activeFor(demo.id, "rewind");
  if (running) return { job: running, created: false };
  if (demo.status !== "ready") throw new DomainError({ code: "not-rewindable", id: demo.id, status: demo.status });
  const job: Job = { id: newJobId(), kind: "rewind", demoId: demo.id, app: demo.app, source, status: "queued", createdAt: ctx.now(), attempts: 0 };
  ctx.registry.jobs.add(job);
  void ctx.saver.save();
  ctx.track(runRewind(ctx, job));
  return { job, created: true };
}

/** Jobs a restart interrupted: each runs once more once its demo serves again; twice interrupted, it fails. */
export function resumeJobs(ctx: ReplacementPorts, interrupted: Job[]): void {
  for (const job of interrupted) {
    if (job.attempts >= 2) {
      finishJob(ctx, job, "failed", "the controller restarted twice during this rewind; the database has the state of the last restore that completed");
      continue;
    }
    // A snapshot being saved died with its docker call: taking it again is the caller's choice.
    if (job.kind === "snapshot") {
      finishJob(ctx, job, "failed", "the controller restarted while the snapshot was being saved; take it again");
      continue;
    }
    job.status = "queued";
    ctx.track(runRewind(ctx, job));
  }
}

async function runRewind(ctx: ReplacementPorts, job: Job): Promise<void> {
  // A job resumed at start waits for its adopted demo to serve again (a launch or replacement may be finishing).
  await waitUntil(ctx, () => ctx.registry.get(job.demoId)?.status !== "starting", 120_000);
  const demo = ctx.registry.get(job.demoId);
  if (ctx.closed) return;
  if (!demo || demo.status !== "ready") return finishJob(ctx, job, "failed", demo ? `the demo is ${demo.status}` : "the demo ended before its rewind ran");
  const source = ctx.specFor(demo)?.state?.sources[job.source];
  if (!source) return finishJob(ctx, job, "failed", `the app ${demo.app} has no state source ${job.source} any more`);
  job.status = "running";
  job.startedAt = ctx.now();
  job.attempts += 1;
  await ctx.saver.save();
  try {
    if (source.kind === "snapshot") await rewindToSnapshot(ctx, demo, job.source);
    else await restoreEveryInstance(ctx, demo, source);
  } catch (error) {
    if (ctx.closed) return; // the next start runs it once more
    const reason = error instanceof RestoreFailure ? error.message : `the restore could not run (${describeError(error)})`;
    return finishJob(ctx, job, "failed", reason);
  }
  finishJob(ctx, job, "done");
}

/** A rewind to a snapshot: the demo's container is replaced by one from the snapshot's image, with zero downtime. */
async function rewindToSnapshot(ctx: ReplacementPorts, demo: Demo, source: string): Promise<void> {
  const image = snapshotImage(ctx.options.namespace, demo.app, source);
  if (!(await ctx.options.runtime.imageExists(image))) throw new RestoreFailure(`there is no snapshot ${source} of ${demo.app} yet; take one with \`demo-launcher snapshot <id> ${source}\``);
  await startReplacement(ctx, demo.id, image);
  await waitUntil(ctx, () => demo.replacement?.status !== "running" || !ctx.registry.isLive(demo));
  if (demo.replacement?.status === "failed") throw new RestoreFailure(`the demo keeps its container: ${demo.replacement.reason ?? "its replacement failed"}`);
}

/** Every serving instance gets the source (a demo is one instance, two for a moment while it is replaced). */
async function restoreEveryInstance(ctx: Ports<"options">, demo: Demo, source: DumpSource): Promise<void> {
  const healthy = healthyInstances(demo).filter((instance) => instance.containerId);
  // An environment's instances share one database service (a replacement keeps it): it is restored once.
  const targets = source.service ? healthy.slice(-1) : healthy;
  if (targets.length === 0) throw new RestoreFailure("the demo has no running instance");
  await Promise.all(targets.map((instance) => ctx.options.restorer!.restore(instance.containerId!, source)));
}

