// One instance's life: create it through the runtime (waiting out Docker outages), wait until it answers, start it again.
import { containerEnvironment } from "../demos/demo-env.js";
import type { EnvironmentSpec, EnvironmentTemplate } from "../environments/environment-spec.js";
import { hardeningOf, type AppSpec as AppConfig } from "../app-spec.js";
import type { Ports } from "../context.js";
import { describeError } from "../errors.js";
import { formatDuration } from "../duration.js";
import { formatBytes } from "../demos/disk.js";
import { instanceIdFor, labelsFor, type Demo, type Instance } from "../model.js";
import { PlacementError, PortTakenError, RuntimeUnavailableError, type ContainerInspection, type EnvironmentInstance, type InstanceSpec, type StartedInstance } from "../runtime.js";

/** While Docker does not answer, launches wait for it this often. */
const DOCKER_RETRY_MS = 1000;
/** How long after its start a starting instance's container is first inspected (see awaitInstanceReady). */
const FIRST_INSPECT_MS = 300;
/** A demo stopped from outside is started again at most this many times. */
const MAX_RESTARTS = 5;
const MAX_REFUSED_RESTARTS = 30;

/** A launch or replacement that cannot go on; its message is for the visitor. */
export class InstanceFailure extends Error {}

/** Starts of a stopped demo's container since it was last ready, and refusals while they last (per demo). */
export class RestartAttempts {
  private readonly tries = new Map<string, { started: number; refused: number }>();

  /** The demo's count, made when it has none. */
  of(demoId: string): { started: number; refused: number } {
    let tries = this.tries.get(demoId);
    if (!tries) this.tries.set(demoId, (tries = { started: 0, refused: 0 }));
    return tries;
  }

  /** The demo is ready again, or gone: its next stop starts a new count. */
  forget(demoId: string): void {
    this.tries.delete(demoId);
  }
}

export type ReadyOutcome = { outcome: "ready" } | { outcome: "failed"; reason: string } | { outcome: "abandoned" };

/**
 * Creates and starts the demo's next instance (the runtime places it and answers with its endpoint). Docker
 * restarting is not the visitor's fault: it waits for Docker while the app would have had time to start.
 * Undefined when the demo stopped being wanted meanwhile (nothing is left running then).
 */
export async function createInstance(ctx: Ports<"closed" | "creating" | "now" | "options" | "outage" | "removeQuietly" | "shuttingDown" | "sleep">, demo: Demo, app: AppConfig, image: string, stillWanted: () => boolean, onPlaced?: (instance: Instance) => void, ahead = false): Promise<Instance | undefined> {
  // Never a number used before: a replica dropped a moment ago may still be on its way out under that name.
  const generation = Math.max(demo.lastGeneration ?? 0, ...demo.instances.map((instance) => instance.generation)) + 1;
  demo.lastGeneration = generation;
  const instanceId = instanceIdFor(demo.id, generation);
  const { runtime, namespace } = ctx.options;
  const deadline = ctx.now() + app.readiness.timeout;
  ctx.creating.add(instanceId);
  try {
    for (;;) {
      if (!stillWanted() || ctx.shuttingDown) return undefined;
      try {
        const env = containerEnvironment(app.env, demo, `${ctx.options.publicOrigin?.(demo.host) ?? `http://${demo.host}`}/`, generation === 1);
        const environment = app.environment ? { ...(await renderEnvironment(app.environment, env, app.readiness.timeout)), ...(demo.kind === "shared" ? { isolated: true } : {}) } : undefined;
        for (const [service, serviceImage] of environment ? environmentImages(environment.spec) : [["", image] as const]) {
          if (await runtime.imageExists(serviceImage)) continue;
          // A Compose file names images people pull (postgres:15): fetched once, however many launches wait for it.
          if (!service || !runtime.pullImage) throw new InstanceFailure(`${runtime.missingImage?.(serviceImage) ?? `the image ${serviceImage} is not on this host`}${service ? ` (service ${service})` : ""}`);
          // Its page says what it waits for: a pull of a large image takes a while on a first launch.
          demo.progress = `Downloading ${serviceImage} for ${service}`;
          await runtime
            .pullImage(serviceImage, (progress) => {
              if (progress.totalBytes > 0) demo.progress = `Downloading ${serviceImage} for ${service}: ${formatBytes(progress.doneBytes)} of ${formatBytes(progress.totalBytes)}`;
            })
            .catch((error: unknown) => {
              if (error instanceof RuntimeUnavailableError) throw error;
              throw new InstanceFailure(`${describeError(error)} (service ${service})`);
            })
            .finally(() => delete demo.progress);
        }
        const spec: InstanceSpec = {
          demoId: demo.id,
          instanceId,
          namespace,
          image,
          // A preview's file may route the one service that publishes a port: the port is the file's, not the config's.
          containerPort: environment ? environment.spec.routes[0]!.port : app.port,
          labels: {
            ...demo.extraLabels,
            ...labelsFor({
              demo: { id: demo.id, kind: demo.kind, app: demo.app, host: demo.host, createdAt: demo.createdAt, expiresAt: demo.expiresAt, namespace, ...(demo.owner ? { owner: demo.owner } : {}), ...(demo.pooled ? { pool: true } : {}), ...(demo.prepared ? { prepared: true } : {}), ...(demo.requestId ? { requestId: demo.requestId } : {}), ...(demo.preview ? { preview: demo.preview } : {}), ...(demo.envOverrides ? { envOverrides: demo.envOverrides } : {}) },
              instance: { id: instanceId, generation, image },
            }),
          },
          env,
          ...(environment ? { environment } : {}),
          memoryBytes: app.memory,
          cpus: app.cpus,
          pids: app.pids,
          hardening: hardeningOf(app),
          ...(app.placement?.constraints.length ? { constraints: app.placement.constraints } : {}),
        };
        // One container on a runtime that can create it first: its endpoint is known before it starts, so the caller
        // routes it (gated until it answers) while Docker starts it, instead of after.
        // `ahead`: created for the stock of created-ahead containers, and not started.
        const twoSteps = !environment && runtime.prepare !== undefined && runtime.startPrepared !== undefined;
        if (ahead && !twoSteps) throw new InstanceFailure("this runtime cannot create a container without starting it");
        const started = twoSteps ? await startInTwoSteps(ctx, demo, spec, { instanceId, generation, stillWanted, ahead, ...(onPlaced ? { onPlaced } : {}) }) : await runtime.createAndStart(spec);
        if (started === undefined) return undefined;
        if (!stillWanted() || ctx.shuttingDown) {
          // Stopped or expired while we were creating it (or the launcher is shutting down): nothing may outlive its record.
          await ctx.removeQuietly(started.containerId);
          return undefined;
        }
        const known = demo.instances.find((instance) => instance.id === instanceId);
        if (known) return known;
        const instance: Instance = { id: instanceId, generation, image, containerId: started.containerId, endpoint: started.endpoint, ...(started.routes ? { routes: started.routes } : {}), health: "starting" };
        demo.instances.push(instance);
        return instance;
      } catch (error) {
        if (error instanceof PlacementError) throw new InstanceFailure(error.reason);
        if (!(error instanceof RuntimeUnavailableError)) throw error;
        ctx.outage.lost(error.message, ctx.closed);
        if (ctx.now() >= deadline) throw new InstanceFailure("Docker did not answer in time");
        await ctx.sleep(DOCKER_RETRY_MS);
      }
    }
  } finally {
    ctx.creating.delete(instanceId);
  }
}

/**
 * Creates the container, records it on the demo (starting, with its endpoint), tells `onPlaced`, then starts it. A
 * port taken between the two (someone else's bind) costs one more create elsewhere. Undefined when the demo stopped
 * being wanted meanwhile (the container is removed).
 */
async function startInTwoSteps(ctx: Ports<"options" | "removeQuietly">, demo: Demo, spec: InstanceSpec, how: { instanceId: string; generation: number; stillWanted: () => boolean; onPlaced?: (instance: Instance) => void; ahead: boolean }): Promise<StartedInstance | undefined> {
  const { runtime } = ctx.options;
  const { instanceId, generation, stillWanted, onPlaced } = how;
  for (;;) {
    const created = await runtime.prepare!(spec, how.ahead);
    if (!stillWanted()) {
      await ctx.removeQuietly(created.containerId);
      return undefined;
    }
    const instance: Instance = { id: instanceId, generation, image: spec.image, containerId: created.containerId, endpoint: created.endpoint, health: "starting" };
    demo.instances.push(instance);
    onPlaced?.(instance);
    if (how.ahead) return created;
    try {
      await runtime.startPrepared!(created.containerId);
      return created;
    } catch (error) {
      demo.instances = demo.instances.filter((candidate) => candidate !== instance);
      if (!(error instanceof PortTakenError)) {
        await ctx.removeQuietly(created.containerId);
        throw error;
      }
    }
  }
}

/** Reads the app's Compose file for this demo; a problem (a required variable it lacks) fails the launch with it. */
async function renderEnvironment(template: EnvironmentTemplate, variables: Record<string, string>, startTimeoutMs: number): Promise<EnvironmentInstance> {
  const rendered = await template.render(variables);
  if (!rendered.ok) throw new InstanceFailure(`its Compose file ${template.file} cannot run: ${rendered.problems.join("; ")}`);
  return { spec: rendered.environment, projectRoot: rendered.projectRoot ?? template.projectRoot, startTimeoutMs };
}

/** Each service's image (a service the file builds has none here: apps run images only). */
function environmentImages(spec: EnvironmentSpec): Array<readonly [string, string]> {
  return spec.services.flatMap((service) => (service.image ? [[service.name, service.image] as const] : []));
}

/**
 * How often a starting instance asks the runtime whether its container still runs: every second, and less often
 * while many start at once (a burst of 50 asking every second is 50 inspects a second against a daemon busy
 * starting them); a crash is then noticed a few seconds later, and only during a burst.
 */
function inspectEvery(ctx: Ports<"registry">): number {
  let starting = 0;
  for (const demo of ctx.registry.values()) if (demo.status === "starting") starting += 1;
  return Math.min(5000, Math.max(1000, starting * 100));
}

/** Polls the instance until it answers, watching for a crash; never routes anything. */
export async function awaitInstanceReady(ctx: Ports<"closed" | "logger" | "now" | "options" | "outage" | "registry" | "restarts" | "sleep">, demo: Demo, instance: Instance, readiness: { path: string; timeout: number }, since: number, stillWanted: () => boolean, startedAt?: number): Promise<ReadyOutcome> {
  const { runtime } = ctx.options;
  // The app's time counts from its container's start at the earliest: a launch that waited in line for a start
  // slot (a burst) has not had its app running meanwhile.
  const deadline = Math.max(since, startedAt ?? since) + readiness.timeout;
  // A probe is one loopback connect: polling often costs little and every wasted interval is latency (a visitor is
  // served the moment it passes: the starting gate opens then).
  let interval = 5;
  // Fast polling for the first seconds after the container started (not after the launch: in a burst, Docker
  // may take seconds to get to this one), then slower for an app that takes its time.
  const pollingSince = ctx.now();
  // The first look at the container waits a moment: an app that just started mostly answers first, and a call to a
  // busy Docker between two probes would only delay the one that passes.
  let nextInspect = pollingSince + FIRST_INSPECT_MS;
  for (;;) {
    if (!stillWanted()) return { outcome: "abandoned" };
    if (instance.endpoint && (await ctx.options.readiness(instance.endpoint, readiness.path).catch(() => false))) return { outcome: "ready" };
    if (!stillWanted()) return { outcome: "abandoned" };
    const now = ctx.now();
    if (now >= nextInspect && instance.containerId) {
      nextInspect = now + inspectEvery(ctx);
      let state: ContainerInspection | undefined | "unknown";
      try {
        state = await runtime.inspect(instance.containerId);
      } catch (error) {
        // Docker restarting says nothing about the app: keep waiting (the deadline still holds).
        if (error instanceof RuntimeUnavailableError) ctx.outage.lost(error.message, ctx.closed);
        state = "unknown";
      }
      // A cluster that moved or restarted it says where it answers now; "restarting" is it doing so.
      if (state !== "unknown" && state?.endpoint && state.endpoint !== instance.endpoint) instance.endpoint = state.endpoint;
      if (state !== "unknown" && state?.state !== "running" && state?.state !== "restarting") {
        // A container started again after an outage can be stopped once more by a daemon still going down.
        const startedAgain = state !== undefined && ctx.outage.aroundOutage && (await startAgain(ctx, demo, instance, state, true).catch(() => true));
        if (!startedAgain) {
          const logs = await runtime.logTail(instance.containerId, 5);
          const cause = !state ? "its container disappeared" : state.oomKilled ? "it ran out of memory" : `it exited with code ${state.exitCode}`;
          // The app's output is for the operator's log only: visitors see the reason, never what it printed.
          if (logs) ctx.logger.warn(`demo ${demo.id} (${demo.app}) instance ${instance.id} last output: ${logs.slice(-1000)}`);
          return { outcome: "failed", reason: `the app stopped while starting: ${cause}` };
        }
      }
    }
    if (now >= deadline) return { outcome: "failed", reason: `the app did not answer on ${readiness.path} within ${formatDuration(readiness.timeout)}` };
    await ctx.sleep(interval);
    if (now - pollingSince > 2_000) interval = 20;
    if (now - pollingSince > 10_000) interval = 250;
  }
}

/**
 * Starts a stopped container again if it was stopped from outside (SIGTERM/SIGKILL, which is what a daemon
 * restart does) or around a Docker outage, at most MAX_RESTARTS times per demo. True when it was started or
 * should be tried again; false when the demo must end (its app crashed, ran out of memory, or keeps dying).
 */
export async function startAgain(ctx: Ports<"logger" | "options" | "restarts">, demo: Demo, instance: Instance, state: ContainerInspection, aroundOutage: boolean): Promise<boolean> {
  if (!instance.containerId || state.oomKilled) return false;
  const killed = state.exitCode === 128 + 15 || state.exitCode === 128 + 9;
  if (!killed && !aroundOutage) return false;
  // Starts are counted until the demo is ready again (a crash loop ends); refusals only while they last.
  const tries = ctx.restarts.of(demo.id);
  if (tries.started >= MAX_RESTARTS || tries.refused >= MAX_REFUSED_RESTARTS) return false;
  try {
    await ctx.options.runtime.restart(instance.containerId);
    tries.started += 1;
  } catch (error) {
    if (error instanceof RuntimeUnavailableError) throw error;
    // A daemon on its way down, or just back, refuses for a moment; the next sync tries again.
    tries.refused += 1;
    if (tries.refused === 1) ctx.logger.warn(`demo ${demo.id}: starting it again was refused (${describeError(error)}); trying again`);
  }
  return true;
}

/** Why a ready demo's container stopped, in a visitor's words. */
export function stoppedReason(state: ContainerInspection | undefined, app: AppConfig | undefined): string {
  return state?.oomKilled ? `the app ran out of memory${app ? ` (its limit is ${Math.round(app.memory / 1048576)} MiB)` : ""}` : "the app stopped unexpectedly";
}
