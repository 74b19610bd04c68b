// Snapshot sources: a demo's whole container saved as an image, new demos started from it, a rewind to it done as a replacement.
import type { AppSpec } from "../app-spec.js";
import type { EngineContext, Ports } from "../context.js";
import { describeError, DomainError } from "../errors.js";
import type { Job } from "./jobs.js";
import { healthyInstances, type Demo } from "../model.js";
import { finishJob, liveDemo } from "./job-ends.js";
import { RestoreFailure, snapshotImage } from "./state-sources.js";

/** Snapshots being taken now, by image: one at a time each. */
const taking = new WeakMap<EngineContext, Set<string>>();

/** Whether a new demo of this app starts from its default snapshot (once there is one). */
export function startsFromSnapshot(demo: Demo, app: AppSpec): boolean {
  return demo.kind === "visitor" && app.state !== undefined && app.state.sources[app.state.default]?.kind === "snapshot";
}

/** The image a new demo of this app starts from: its default source's snapshot once there is one, else the app's image. */
export async function launchImage(ctx: Ports<"options">, demo: Demo, app: AppSpec): Promise<string> {
  if (!startsFromSnapshot(demo, app)) return app.image;
  const image = snapshotImage(ctx.options.namespace, demo.app, app.state!.default);
  return (await ctx.options.runtime.imageExists(image).catch(() => false)) ? image : app.image;
}

/** Saves the demo's serving container as the snapshot source's image (the container pauses for the moment of the copy). */
async function takeSnapshot(ctx: EngineContext, demo: Demo, source: string): Promise<string> {
  const instance = healthyInstances(demo).find((candidate) => candidate.containerId);
  if (!instance) throw new RestoreFailure("the demo has no running instance");
  const commit = ctx.options.runtime.commit?.bind(ctx.options.runtime);
  if (!commit) throw new RestoreFailure("this container runtime cannot save containers as images");
  const image = snapshotImage(ctx.options.namespace, demo.app, source);
  const busy = taking.get(ctx) ?? new Set<string>();
  taking.set(ctx, busy);
  if (busy.has(image)) throw new RestoreFailure(`a snapshot ${source} of ${demo.app} is being taken right now`);
  busy.add(image);
  try {
    await commit(instance.containerId!, image, { [`demo-launcher.snapshot-of`]: demo.app, [`demo-launcher.snapshot-source`]: source, [`demo-launcher.namespace`]: ctx.options.namespace });
  } finally {
    busy.delete(image);
  }
  ctx.logger.info(`snapshot ${source} of ${demo.app} taken from demo ${demo.id} as ${image}`);
  return image;
}

/** `demo-launcher snapshot <id> <source>`: checked now, taken in the background as a job. */
export function requestSnapshot(ctx: EngineContext, demoId: string, source: string, newJobId: () => string): Job {
  const demo = liveDemo(ctx, demoId);
  const state = ctx.specFor(demo)?.state;
  if (!state) throw new DomainError({ code: "no-state-sources", app: demo.app });
  const snapshots = Object.entries(state.sources).filter(([, candidate]) => candidate.kind === "snapshot").map(([name]) => name);
  if (!snapshots.includes(source)) throw new DomainError({ code: "unknown-state-source", app: demo.app, asked: source, allowed: snapshots });
  if (demo.status !== "ready") throw new DomainError({ code: "not-rewindable", id: demo.id, status: demo.status });
  const job: Job = { id: newJobId(), kind: "snapshot", demoId: demo.id, app: demo.app, source, status: "running", createdAt: ctx.now(), startedAt: ctx.now(), attempts: 1 };
  ctx.registry.jobs.add(job);
  void ctx.saver.save();
  ctx.track(
    takeSnapshot(ctx, demo, source).then(
      () => finishJob(ctx, job, "done"),
      (error: unknown) => finishJob(ctx, job, "failed", error instanceof RestoreFailure ? error.message : `the snapshot could not be saved (${describeError(error)})`),
    ),
  );
  return job;
}

/** Auto snapshots: the first demo of the app that becomes ready gives each missing one. */
export async function autoSnapshots(ctx: EngineContext, demo: Demo): Promise<void> {
  const state = ctx.specFor(demo)?.state;
  if (!state || demo.kind !== "visitor" || !Object.values(state.sources).some((source) => source.kind === "snapshot" && source.auto)) return;
  for (const [name, source] of Object.entries(state.sources)) {
    if (source.kind !== "snapshot" || !source.auto) continue;
    const image = snapshotImage(ctx.options.namespace, demo.app, name);
    if (taking.get(ctx)?.has(image) || (await ctx.options.runtime.imageExists(image).catch(() => true))) continue;
    await takeSnapshot(ctx, demo, name).catch((error) => ctx.logger.warn(`the automatic snapshot ${name} of ${demo.app} failed: ${describeError(error)}`));
  }
}
