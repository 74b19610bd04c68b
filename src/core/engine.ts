// The engine's front door: what the HTTP layer and the reaper call; each job lives in a module of its own beside it.
import type { EngineOptions } from "./context.js";
import type { LaunchGate } from "./demos/disk.js";
import { EngineCore } from "./engine-core.js";
import { describeError, DomainError, SetupError } from "./errors.js";
import { extendLease } from "./demos/extension.js";
import type { Demo } from "./model.js";
import { ensurePools, poolStatus } from "./demos/pool.js";
import { ensurePrepared, preparedStatus, removeSpares, removeStock } from "./demos/prepared.js";
import { containerStopped } from "./instances/sync.js";
import type { DemoRegistry } from "./registry.js";
import { startReplacement } from "./demos/replacement.js";
import { requestRewind, resumeJobs } from "./state/rewind.js";
import { SharedDemos } from "./shared/shared.js";
import { requestSnapshot } from "./state/snapshots.js";
import { ReaperPasses } from "./demos/reaper-pass.js";
import { VisitorLaunches, type LaunchResult } from "./demos/visitor-launch.js";
import type { Job } from "./state/jobs.js";
import { previewOps, type PreviewOps } from "./previews/previews.js";
import type { AppSpec } from "./app-spec.js";
import { UnknownServiceError, type EndedDemo, type EngineState, type ServiceStatus } from "./runtime.js";
import { adoptAtStart, syncWithDocker } from "./instances/sync.js";
import { publishUntilServed } from "./routing/route-desk.js";
import { queueInfo, touch } from "./demos/waiting-line.js";
import { restoreAccepted } from "./state/restart.js";
import type { DemoService, DiskService, PreviewService } from "./services.js";

export type { EngineOptions } from "./context.js";

export type { LaunchResult } from "./demos/visitor-launch.js";

/**
 * The front door: edges (HTTP, the reaper, the controller) call these; each call hands the flow behind it the core's
 * ports (engine-core.ts), and no flow calls back through this class.
 */
export class DemoEngine implements DemoService, PreviewService, DiskService {
  /** The ports the flows are handed (tests reach the core through it; edges use the methods below). */
  readonly core: EngineCore;
  /** Previews: served from built images, put to sleep when idle, woken by a request. */
  readonly previews: PreviewOps;
  /** Shared demos: kept at their replica count, reset blue-green. */
  readonly shared: SharedDemos;
  private readonly visitors: VisitorLaunches;
  private readonly reaper: ReaperPasses;
  private unwatchDocker: (() => void) | undefined;

  constructor(options: EngineOptions) {
    this.core = new EngineCore(options);
    this.previews = previewOps(this.core);
    this.shared = new SharedDemos(this.core, options.shared ?? []);
    this.core.registry.sharedState = () => this.shared.snapshot();
    this.visitors = new VisitorLaunches(this.core);
    this.reaper = new ReaperPasses(this.core, { visitors: this.visitors, previews: this.previews, shared: this.shared });
  }

  get options(): EngineOptions {
    return this.core.options;
  }

  /** Live demos, the line and ended demos (tests read it; edges ask the queries below). */
  get registry(): DemoRegistry {
    return this.core.registry;
  }

  /** Where the disk guard says whether the host is above its free-space floor. */
  get gate(): LaunchGate {
    return this.core.gate;
  }

  now(): number {
    return this.core.now();
  }

  /** The first step of a shutdown (see BackgroundWork): from now on nothing creates a container. */
  beginShutdown(): void {
    this.core.work.beginShutdown();
  }

  /**
   * Resolves once `predicate` holds for the demo (undefined when it is not live), checked now and at each of its
   * transitions; false when `signal` aborted or the engine closed first. How a caller waits for ready, settled or ended.
   */
  async until(id: string, predicate: (demo: Demo | undefined) => boolean, signal?: AbortSignal): Promise<boolean> {
    const { registry, stopping } = this.core;
    const signals = signal ? AbortSignal.any([signal, stopping]) : stopping;
    return (await registry.transitions.until(() => (predicate(registry.get(id)) ? true : undefined), signals)) === true;
  }

  // ---- start and stop -----------------------------------------------------------------------

  /** How many live demos the start found in Docker and took over (not the shared demos it then creates). */
  adoptedAtStart = 0;

  async start(): Promise<void> {
    const core = this.core;
    // A store that cannot be read starts empty, but one that refuses (a newer release's file) stops the start:
    // running on would overwrite what that release keeps.
    const state = await core.options.stateStore.load().catch((error: unknown): EngineState => {
      if (error instanceof SetupError) throw error;
      return { ended: [], queued: [] };
    });
    core.registry.restore(state, core.now());
    this.shared.restore(state.shared ?? []);
    await adoptAtStart(core, await core.options.routes.load());
    this.adoptedAtStart = this.list().length;
    restoreAccepted(core, state);
    await core.publishRoutes().catch(() => {});
    resumeJobs(core, core.registry.interruptedJobs);
    core.registry.interruptedJobs = [];
    this.shared.ensure();
    core.promoteQueued();
    ensurePools(core, () => core.newUniqueId());
    ensurePrepared(core);
    void core.saver.save();
    // A broken connection only opens the restart window: the outage is reported when a call finds nobody there.
    const { runtime } = core.options;
    this.unwatchDocker = runtime.watchContainers
      ? runtime.watchContainers(core.options.namespace, {
          stopped: (containerId, how) => core.track(containerStopped(core, containerId, how).catch((error: unknown) => core.logger.warn(`container ${containerId.slice(0, 12)} stopped: ${describeError(error)}`))),
          lost: () => {
            core.watch.following = false;
            core.outage.openRestartWindow();
          },
          // (Again) open: whatever happened while it was not is for a full listing at the next pass.
          opened: () => Object.assign(core.watch, { following: true, listingDue: true }),
        })
      : runtime.watchConnection?.(() => core.outage.openRestartWindow());
  }

  /** Stops background work; containers stay (they are adopted at the next start). Safe to call twice. */
  async close(): Promise<void> {
    this.unwatchDocker?.();
    await this.core.work.close();
    await this.core.saver.flushed();
  }

  /** Waits for launches, replacements, drains and rewinds in flight (tests and graceful shutdown). */
  settled(): Promise<void> {
    return this.core.work.settled();
  }

  /** True while a launch, replacement, drain or rewind runs in the background. */
  get busy(): boolean {
    return this.core.work.busy;
  }

  // ---- visitors ------------------------------------------------------------------------------

  /** Answers at once; the container is created and followed in the background (visitor-launch.ts). */
  launch(appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult> {
    return this.visitors.launch(appName, owner, requestId);
  }

  queueInfo(id: string): { position: number; estimatedWaitSeconds: number } | undefined {
    return queueInfo(this.core, id);
  }

  touch(id: string): void {
    touch(this.core, id);
  }

  // ---- operator actions -------------------------------------------------------------------------

  /** Gives a live demo more time (an admin action); on disk before this returns. */
  extend(id: string, byMs: number): Promise<Demo> {
    return extendLease(this.core, id, byMs);
  }

  /** Starts a zero-downtime replacement; answers at once with the demo (its `replacement` tells how it goes). */
  replace(id: string, image?: string): Promise<Demo> {
    return startReplacement(this.core, id, image);
  }

  /** Rewinds a demo's database to a state source (the app's default when none is named); answers with the job once it is
   * in the state file, so a controller killed right after the answer still resumes the job the caller was told about. */
  async rewind(id: string, source?: string): Promise<{ job: Job; created: boolean }> {
    const started = requestRewind(this.core, id, source, () => this.core.options.newId());
    await this.core.saver.flushed();
    return started;
  }

  /** Saves a ready demo's container as a snapshot source of its app; answers with the job once it is in the state file. */
  async snapshot(id: string, source: string): Promise<Job> {
    const job = requestSnapshot(this.core, id, source, () => this.core.options.newId());
    await this.core.saver.flushed();
    return job;
  }

  /** An environment's services as its newest instance runs them (state, health); [] for a single container. */
  async services(id: string): Promise<ServiceStatus[]> {
    const demo = this.core.registry.get(id);
    if (!demo) throw new DomainError({ code: "no-such-demo", id });
    const instance = [...demo.instances].reverse().find((candidate) => candidate.containerId);
    if (!instance || !this.core.specFor(demo)?.environment || !this.core.options.runtime.services) return [];
    return this.core.options.runtime.services(instance.containerId!);
  }

  /** The newest instance's last lines; of an environment, one service's (its routed one's by default). */
  async logs(id: string, lines: number, service?: string): Promise<string> {
    const demo = this.core.registry.get(id);
    if (!demo) throw new DomainError({ code: "no-such-demo", id });
    const instance = [...demo.instances].reverse().find((candidate) => candidate.containerId);
    if (service !== undefined && !this.core.specFor(demo)?.environment) throw new DomainError({ code: "no-such-service", id, service, services: [] });
    if (!instance) return "";
    try {
      return await this.core.options.runtime.logTail(instance.containerId!, lines, service);
    } catch (error) {
      if (error instanceof UnknownServiceError) throw new DomainError({ code: "no-such-service", id, service: error.service, services: error.services });
      throw error;
    }
  }

  job(id: string): Job | undefined {
    return this.core.registry.jobs.get(id);
  }

  stop(id: string): Promise<boolean> {
    return this.endDemo(id, "stopped", "it was stopped");
  }

  /** Ends a live demo with these words (the disk guard's, the image keeper's); false when it was not live. */
  async endDemo(id: string, status: EndedDemo["status"], reason: string): Promise<boolean> {
    const demo = this.core.registry.get(id);
    if (!demo) return false;
    await this.core.end(demo, status, reason);
    return true;
  }

  /** Ends every demo for a shutdown (beginShutdown first, so nothing starts again meanwhile); answers how many. */
  async stopAll(): Promise<number> {
    this.beginShutdown();
    const all = this.core.registry.all();
    await Promise.all([...all.map((demo) => this.core.end(demo, "stopped", "the launcher was shut down")), removeStock(this.core)]);
    return all.length;
  }

  removeSpares(): Promise<number> {
    return removeSpares(this.core);
  }

  // ---- the reaper ------------------------------------------------------------------------------

  /** One reaper pass (see reaper-pass.ts): expiry from memory every tick, a full Docker sync every few ticks. */
  reapTick(): Promise<void> {
    return this.reaper.pass();
  }

  syncWithDocker(): Promise<void> {
    return syncWithDocker(this.core);
  }

  /** Publishes the routes of every live demo (the controller's start, tests); resolves to the generation. */
  publishRoutes(): Promise<number> {
    return this.core.publishRoutes();
  }

  /** Publishes the routes and resolves once nginx serves them (true) or refused or missed them (false): an access change. */
  async publishRoutesAndWait(): Promise<boolean> {
    return (await publishUntilServed(this.core, () => !this.core.closed, "an access change")) === true;
  }

  specFor(demo: Demo): AppSpec | undefined {
    return this.core.specFor(demo);
  }

  // ---- queries ---------------------------------------------------------------------------------

  get(id: string): Demo | undefined {
    return this.core.registry.get(id);
  }

  getEnded(id: string): EndedDemo | undefined {
    return this.core.registry.getEnded(id);
  }

  /** Visitors' demos (warm pool members are counted by poolStatus instead). */
  list(): Demo[] {
    return this.registry
      .all()
      .filter((demo) => !demo.pooled)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  currentGeneration(): number {
    return this.core.routing.generation;
  }

  preparedStatus(): Record<string, { ready: number; creating: number }> {
    return preparedStatus(this.core);
  }

  poolStatus(): Record<string, { ready: number; starting: number }> {
    return poolStatus(this.core);
  }

  dockerStatus(): { state: "ok" | "unreachable"; since?: string } {
    return this.core.outage.status();
  }
}
