// Carries out reconciliation plans: at start (against what nginx was told) and on the reaper's Docker syncs.
import { toHealth, toStatus } from "../lifecycle.js";
import { readinessFor, type EngineContext, type Ports } from "../context.js";
import { finishLaunch, failDemo } from "../demos/launch.js";
import { startClaimed } from "../demos/prepared.js";
import { startAgain, stoppedReason } from "./instances.js";
import { LABEL_PREFIX, LABELS_FORMAT, labelsFormatOf, type Demo, type Instance } from "../model.js";
import { planReconcile, type ReconcileAction } from "./reconcile.js";
import { completeReplacement, finishDrain } from "../demos/replacement.js";
import type { PublishedRoutes } from "../routing/routes.js";

/** Adopts live demos, finishes launches and replacements under way, removes the rest: Docker labels are the truth. */
export async function adoptAtStart(ctx: EngineContext, published: PublishedRoutes): Promise<void> {
  const containers = await ctx.options.runtime.list(ctx.options.namespace);
  await apply(ctx, plan(ctx, containers, published.backends, false), false);
}

/** Catches what memory cannot see: crashed apps, containers removed by hand, stragglers. */
export async function syncWithDocker(ctx: EngineContext): Promise<void> {
  const aroundOutage = ctx.outage.aroundOutage;
  const containers = await ctx.options.runtime.list(ctx.options.namespace);
  ctx.outage.answered();
  // A created-ahead container removed by hand leaves the stock (a launch would only find it gone).
  const listed = new Set(containers.map((container) => container.containerId));
  if (!aroundOutage) for (const demo of [...ctx.prepared.values()]) if (!listed.has(demo.instances[0]?.containerId ?? "")) ctx.prepared.delete(demo.id);
  await apply(ctx, plan(ctx, containers, new Map(), aroundOutage), aroundOutage);
}

type Containers = Awaited<ReturnType<EngineContext["options"]["runtime"]["list"]>>;

/** Containers already reported as another config's, per engine: each is said once, not on every sync. */
const reportedStrangers = new WeakMap<EngineContext, Set<string>>();

function reportedOf(ctx: EngineContext): Set<string> {
  const reported = reportedStrangers.get(ctx) ?? new Set<string>();
  reportedStrangers.set(ctx, reported);
  return reported;
}

/**
 * Containers whose labels a newer release wrote (a downgrade, or two releases on one namespace) are not read:
 * left as they are and reported once, never taken as damaged and removed.
 */
function leaveNewer(ctx: EngineContext, containers: Containers): Containers {
  const newer = containers.filter((container) => !(labelsFormatOf(container.labels) <= LABELS_FORMAT));
  if (newer.length === 0) return containers;
  const reported = reportedOf(ctx);
  const fresh = newer.filter((container) => !reported.has(container.containerId));
  for (const container of fresh) reported.add(container.containerId);
  if (fresh.length > 0) ctx.logger.warn(`namespace ${ctx.options.namespace}: ${fresh.length} container(s) carry labels of format ${[...new Set(fresh.map((container) => container.labels[`${LABEL_PREFIX}format`]))].join(", ")}, written by a newer demo-launcher (this one reads formats up to ${LABELS_FORMAT}): left alone, not adopted, routed or removed; start the newer release again to take them over (${fresh.map((container) => container.containerId.slice(0, 12)).join(" ")})`);
  return containers.filter((container) => labelsFormatOf(container.labels) <= LABELS_FORMAT);
}

/** Whether this config names what a container belongs to: its app, its preview source, or its shared demo. */
function namedByConfig(ctx: Ports<"options">, labels: Record<string, string>): boolean {
  const app = labels[`${LABEL_PREFIX}app`];
  // Damaged labels are for the planner to judge (it removes such a container of ours).
  if (app === undefined) return true;
  switch (labels[`${LABEL_PREFIX}kind`]) {
    case "preview":
      return Object.hasOwn(ctx.options.previews ?? {}, app);
    case "shared":
      return (ctx.options.shared ?? []).some((spec) => spec.name === labels[`${LABEL_PREFIX}id`] && spec.app === app);
    default:
      return Object.hasOwn(ctx.options.apps, app);
  }
}

/**
 * A controller never adopts, routes or removes a container its config does not name (an app since taken out of
 * the config, or another controller's mistakenly sharing the namespace): such containers are left as they are
 * and reported once, with how to remove them.
 */
function leaveStrangers(ctx: EngineContext, all: Containers): Containers {
  const containers = leaveNewer(ctx, all);
  const strangers = containers.filter((container) => !namedByConfig(ctx, container.labels));
  if (strangers.length === 0) return containers;
  const reported = reportedOf(ctx);
  const fresh = strangers.filter((container) => !reported.has(container.containerId));
  for (const container of fresh) reported.add(container.containerId);
  if (fresh.length > 0) {
    const what = [...new Set(fresh.map((container) => `${container.labels[`${LABEL_PREFIX}kind`] ?? "visitor"} ${container.labels[`${LABEL_PREFIX}app`]}`))].join(", ");
    ctx.logger.warn(`namespace ${ctx.options.namespace}: ${fresh.length} container(s) of what this config does not name (${what}) are left alone: not adopted, routed or removed; if they are nobody's, remove them with docker rm -f ${fresh.map((container) => container.containerId.slice(0, 12)).join(" ")}`);
  }
  return containers.filter((container) => namedByConfig(ctx, container.labels));
}

function plan(ctx: EngineContext, all: Containers, published: ReadonlyMap<string, readonly string[]>, aroundOutage: boolean): ReconcileAction[] {
  const { registry } = ctx;
  const containers = leaveStrangers(ctx, all);
  return planReconcile({
    containers,
    liveDemos: registry.all(),
    ended: (id) => registry.getEnded(id),
    lease: (id) => registry.leases.get(id),
    creating: ctx.creating,
    asleep: (id) => registry.savedAsleep.has(id) || registry.get(id)?.status === "asleep",
    published,
    now: ctx.now(),
    aroundOutage,
  });
}

async function apply(ctx: EngineContext, actions: ReconcileAction[], aroundOutage: boolean): Promise<void> {
  // Every adopted demo is in the registry before any of their background work runs: a launch that finishes
  // first publishes the routes, and they must already hold every demo that was routed before the restart.
  const background: Array<() => void> = [];
  for (const action of actions) {
    if (action.kind === "record-ended") ctx.registry.recordEnded(action.entry, ctx.now());
    else if (action.kind === "stock") ctx.prepared.add(action.demo);
    else if (action.kind === "adopt") {
      const task = adopt(ctx, action.demo, action.await);
      if (task) background.push(task);
    } else if (action.kind === "finish-drain") {
      background.push(() => {
        const found = lookup(ctx, action.demoId, action.instanceId);
        if (found) ctx.track(finishDrain(ctx, found.demo, found.instance));
      });
    }
  }
  for (const start of background) start();
  let restarted = 0;
  let moved = 0;
  for (const action of actions) {
    switch (action.kind) {
      case "remove":
        if (action.why.includes("damaged")) ctx.logger.warn(`removing container ${action.containerId.slice(0, 12)}: ${action.why}`);
        await ctx.removeQuietly(action.containerId);
        break;
      case "check-stopped": {
        const found = lookup(ctx, action.demoId, action.instanceId);
        if (found && (await restartOrFail(ctx, found.demo, found.instance, aroundOutage))) restarted += 1;
        break;
      }
      case "moved": {
        const found = lookup(ctx, action.demoId, action.instanceId);
        if (found) moved += follow(ctx, found.demo, found.instance, action.endpoint);
        break;
      }
      case "check-missing": {
        const found = lookup(ctx, action.demoId, action.instanceId);
        if (found) await endIfGone(ctx, found.demo, found.instance);
        break;
      }
      default:
        break;
    }
  }
  if (moved > 0) await ctx.publishRoutes().catch(() => {});
  if (restarted > 0) ctx.logger.info(`starting ${restarted} demo(s) again that were stopped from outside (a Docker restart stops every container)`);
}

function lookup(ctx: Ports<"registry">, demoId: string, instanceId: string): { demo: Demo; instance: Instance } | undefined {
  const demo = ctx.registry.get(demoId);
  const instance = demo?.instances.find((candidate) => candidate.id === instanceId);
  return demo && instance ? { demo, instance } : undefined;
}

/** Registers the adopted demo; answers the background work to start once every demo is registered. */
function adopt(ctx: EngineContext, demo: Demo, awaiting: { instanceId: string; as: "launch" | "replacement"; since?: number; start?: true } | undefined): (() => void) | undefined {
  const saved = ctx.registry.getReplacement(demo.id);
  if (saved) demo.replacement = saved;
  ctx.registry.add(demo);
  const instance = awaiting && demo.instances.find((candidate) => candidate.id === awaiting.instanceId);
  if (!instance) {
    if (demo.replacement?.status === "running") demo.replacement = { ...demo.replacement, status: "failed", finishedAt: ctx.now(), reason: "the controller restarted before its new instance was started; replace it again" };
    return undefined;
  }
  if (awaiting.as === "launch" && awaiting.start) {
    const app = ctx.options.apps[demo.app];
    return () => ctx.track(app ? startClaimed(ctx, demo, app) : failDemo(ctx, demo, "its app is no longer configured"));
  }
  if (awaiting.as === "launch") {
    const readiness = readinessFor(ctx, demo);
    // A fresh preview the last run had not seeded yet is seeded now (a load is all or nothing, so once more is safe).
    const fresh = ctx.registry.savedUnseeded.has(demo.id) ? ctx.specFor(demo) : undefined;
    if (fresh?.seed) demo.unseeded = true;
    return () => ctx.track(finishLaunch(ctx, demo, instance, readiness, awaiting.since ?? demo.createdAt, fresh));
  }
  // A replacement the last run had under way: finish it (the old instance serves meanwhile).
  demo.replacement = demo.replacement?.status === "running" ? demo.replacement : { status: "running", image: instance.image, startedAt: ctx.now() };
  return () => ctx.track(completeReplacement(ctx, demo, instance));
}

/**
 * A ready demo's container stopped: Docker stops every container when it goes down (unless live-restore is
 * on), with SIGTERM and then SIGKILL, often before its connection breaks. Such a stop is undone; an app's own
 * crash or running out of memory ends the demo. True when it was started again.
 */
async function restartOrFail(ctx: EngineContext, demo: Demo, instance: Instance, aroundOutage: boolean): Promise<boolean> {
  const state = instance.containerId ? await ctx.options.runtime.inspect(instance.containerId) : undefined;
  if (state?.state === "running") return false;
  // A shared demo loses one replica, not its host: the replica goes and a new one is started in its place.
  if (demo.kind === "shared") return void (await dropReplica(ctx, demo, instance, stoppedReason(state, ctx.specFor(demo)))), false;
  if (state && (await startAgain(ctx, demo, instance, state, aroundOutage))) {
    awaitAppAgain(ctx, demo, instance);
    return true;
  }
  await failDemo(ctx, demo, stoppedReason(state, ctx.specFor(demo)));
  return false;
}

/**
 * The cluster started a serving instance again elsewhere (its node died or was drained): the route moves to it.
 * A visitor's demo started fresh there and lost what the visitor did: its page says so. Answers 1 when it moved.
 */
function follow(ctx: EngineContext, demo: Demo, instance: Instance, endpoint: string): number {
  instance.endpoint = endpoint;
  if (demo.kind === "visitor") demo.notice = "Your demo moved to another machine and started fresh there: what you did before is gone.";
  ctx.emit({ type: "moved", id: demo.id, app: demo.app, kind: demo.kind, endpoint });
  // The cluster says "running" once the process runs, not once the app answers. A demo with no other instance is
  // routed again only when it answers, as after a restart: meanwhile its host shows the starting page (503 and
  // Retry-After), not a route to a port nobody listens on yet. A shared demo's other replicas serve meanwhile.
  if (demo.kind !== "shared" && demo.status === "ready" && instance.health === "healthy" && demo.instances.every((other) => other === instance || other.health !== "healthy")) awaitAppAgain(ctx, demo, instance);
  return 1;
}

/** Its container runs again (restarted or moved): unrouted and starting until the app answers, then routed. */
function awaitAppAgain(ctx: EngineContext, demo: Demo, instance: Instance): void {
  toStatus(ctx, demo, "starting", "waiting-for-app");
  toHealth(instance, "starting");
  ctx.track(finishLaunch(ctx, demo, instance, readinessFor(ctx, demo), ctx.now()));
}

/**
 * Docker said a container of ours died or was removed (its event stream): a crash or an OOM kill of a ready demo
 * ends it at once; a stop by a signal (an operator, or a daemon on its way down) is for the next listing, which
 * knows whether Docker is restarting; a removal is checked as a listing would.
 */
export async function containerStopped(ctx: EngineContext, containerId: string, how: "died" | "removed"): Promise<void> {
  for (const held of ctx.prepared.values()) {
    if (held.instances[0]?.containerId !== containerId) continue;
    // A container created ahead that died was started by someone else: it is no longer fit to hand out.
    ctx.prepared.delete(held.id);
    if (how === "died") await ctx.removeQuietly(containerId);
    return void (await ctx.publishRoutes().catch(() => {}));
  }
  let found: { demo: Demo; instance: Instance } | undefined;
  for (const demo of ctx.registry.values()) {
    const instance = demo.instances.find((candidate) => candidate.containerId === containerId);
    if (instance) found = { demo, instance };
  }
  // One being created or started is its launch's to follow (a start that lost its port removes its own container).
  if (!found || ctx.creating.has(found.instance.id)) return;
  const { demo, instance } = found;
  if (how === "removed") return endIfGone(ctx, demo, instance);
  if (instance.health !== "healthy" || demo.status !== "ready") return;
  const state = await ctx.options.runtime.inspect(containerId);
  if (!state || state.state === "running") return;
  const killed = !state.oomKilled && (state.exitCode === 128 + 15 || state.exitCode === 128 + 9);
  if (killed) {
    ctx.watch.listingDue = true;
    return;
  }
  if (demo.kind === "shared") return dropReplica(ctx, demo, instance, stoppedReason(state, ctx.specFor(demo)));
  await failDemo(ctx, demo, stoppedReason(state, ctx.specFor(demo)));
}

/** A listing is not proof: only Docker saying "no such container" is. */
async function endIfGone(ctx: Ports<"end" | "logger" | "options" | "publishRoutes" | "removeQuietly" | "saver">, demo: Demo, instance: Instance): Promise<void> {
  if (!instance.containerId || (await ctx.options.runtime.inspect(instance.containerId)) !== undefined) return;
  const others = demo.instances.filter((candidate) => candidate !== instance && candidate.health === "healthy");
  if (instance.health === "healthy" && others.length > 0) {
    demo.instances = demo.instances.filter((candidate) => candidate !== instance);
    await ctx.publishRoutes().catch(() => {});
    return;
  }
  if (demo.kind === "shared") return dropReplica(ctx, demo, instance, "its container was removed outside the launcher");
  // A replacement's new instance is its own loop's to report; the demo keeps its old one.
  if (instance.health !== "healthy" && demo.status === "ready") return;
  await ctx.end(demo, "failed", "its container was removed outside the launcher");
}

/** Unroutes and removes one replica of a shared demo; the shared demos' next pass starts another. */
async function dropReplica(ctx: Ports<"logger" | "publishRoutes" | "removeQuietly" | "saver">, demo: Demo, instance: Instance, why: string): Promise<void> {
  ctx.logger.warn(`shared demo ${demo.id}: replica ${instance.id} is gone (${why}); starting another`);
  demo.instances = demo.instances.filter((candidate) => candidate !== instance);
  if (demo.instances.every((candidate) => candidate.health !== "healthy")) toStatus(ctx, demo, "starting");
  await ctx.publishRoutes().catch(() => {});
  if (instance.containerId) await ctx.removeQuietly(instance.containerId);
}
