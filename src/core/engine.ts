// The engine's front door: what the HTTP layer and the reaper call; each job lives in a module of its own beside it.
import { endDemo } from "./lifecycle.js";
import { BackgroundWork } from "./background.js";
import type { EngineContext, EngineOptions } from "./context.js";
import { DockerOutage } from "./docker-outage.js";
import { describeError, DomainError } from "./errors.js";
import { extendLease } from "./extension.js";
import { runLaunch } from "./launch.js";
import { LaunchRateLimiter } from "./limits.js";
import type { Demo } from "./model.js";
import { ensurePools, poolStatus } from "./pool.js";
import { DemoRegistry } from "./registry.js";
import { startReplacement } from "./replacement.js";
import { requestRewind, resumeJobs } from "./rewind.js";
import { SharedDemos } from "./shared.js";
import { emitTo, type EngineEvent } from "./events.js";
import { requestSnapshot } from "./snapshots.js";
import { reapPass } from "./reaper-pass.js";
import { launchForVisitor } from "./visitor-launch.js";
import type { Job } from "./jobs.js";
import { previewOps, type PreviewOps } from "./previews.js";
import type { AppSpec } from "./app-spec.js";
import { demoRoutes } from "./routes.js";
import { RuntimeUnavailableError, type EndedDemo, type EngineState } from "./runtime.js";
import { StateSaver } from "./state-saver.js";
import { adoptAtStart, syncWithDocker } from "./sync.js";
import { promoteQueued, queueInfo, touch } from "./waiting-line.js";
import { restoreAccepted } from "./restart.js";

export type { EngineOptions } from "./context.js";

export interface LaunchResult {
  demo: Demo;
  /** False when the visitor already had a live demo and gets that one back. */
  created: boolean;
}


export class DemoEngine implements EngineContext {
  readonly registry: DemoRegistry;
  readonly outage: DockerOutage;
  readonly saver: StateSaver;
  readonly logger: EngineOptions["logger"];
  /** Previews: served from built images, put to sleep when idle, woken by a request. */
  readonly previews: PreviewOps = previewOps(this);
  /** Shared demos: kept at their replica count, reset blue-green. */
  readonly shared: SharedDemos;
  private readonly rate: LaunchRateLimiter;
  /** Set by the disk guard while the host is below its free-space floor: launches are refused until it clears. */
  diskLow: import("./disk.js").LowDisk | undefined;
  private readonly work: BackgroundWork;
  private ticks = 0;
  private unwatchDocker: (() => void) | undefined;

  constructor(readonly options: EngineOptions) {
    this.logger = options.logger;
    this.work = new BackgroundWork(options.scheduler, options.logger);
    this.registry = new DemoRegistry(options.endedRetentionMs ?? 24 * 3_600_000);
    this.outage = new DockerOutage(() => this.now(), options.logger);
    this.saver = new StateSaver(options.stateStore, this.registry, options.logger);
    this.rate = new LaunchRateLimiter(options.limits.launchesPerClient, options.limits.launchWindow);
    this.shared = new SharedDemos(this, options.shared ?? []);
    this.registry.sharedState = () => this.shared.snapshot();
  }

  now(): number {
    return this.options.scheduler.now();
  }

  emit(event: EngineEvent): void {
    emitTo(this.options.events, event);
  }

  /** Ends early when `signal` aborts or the engine closes (a flow's loop then sees `closed`). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.work.sleep(ms, signal);
  }

  get closed(): boolean {
    return this.work.closed;
  }

  get shuttingDown(): boolean {
    return this.work.shuttingDown;
  }

  /** The first step of a shutdown (see BackgroundWork): from now on nothing creates a container. */
  beginShutdown(): void {
    this.work.beginShutdown();
  }

  get stopping(): AbortSignal {
    return this.work.stopping;
  }

  /**
   * Resolves once `predicate` holds for the demo (undefined when it is not live), checked now and at each of its
   * transitions; false when `signal` aborted or the engine closed first. How a caller waits for ready, settled or ended.
   */
  async until(id: string, predicate: (demo: Demo | undefined) => boolean, signal?: AbortSignal): Promise<boolean> {
    const signals = signal ? AbortSignal.any([signal, this.work.stopping]) : this.work.stopping;
    return (await this.registry.transitions.until(() => (predicate(this.registry.get(id)) ? true : undefined), signals)) === true;
  }

  // ---- start and stop -----------------------------------------------------------------------

  /** How many live demos the start found in Docker and took over (not the shared demos it then creates). */
  adoptedAtStart = 0;

  async start(): Promise<void> {
    const state = await this.options.stateStore.load().catch((): EngineState => ({ ended: [], queued: [] }));
    this.registry.restore(state, this.now());
    this.shared.restore(state.shared ?? []);
    await adoptAtStart(this, await this.options.routes.load());
    this.adoptedAtStart = this.list().length;
    restoreAccepted(this, state);
    await this.publishRoutes().catch(() => {});
    resumeJobs(this, this.registry.interruptedJobs);
    this.registry.interruptedJobs = [];
    this.shared.ensure();
    this.promoteQueued();
    ensurePools(this, () => this.newUniqueId());
    void this.saver.save();
    // A broken connection only opens the restart window: the outage is reported when a call finds nobody there.
    this.unwatchDocker = this.options.runtime.watchConnection?.(() => this.outage.openRestartWindow());
  }

  /** Stops background work; containers stay (they are adopted at the next start). Safe to call twice. */
  async close(): Promise<void> {
    this.unwatchDocker?.();
    await this.work.close();
    await this.saver.flushed();
  }

  /** Waits for launches, replacements, drains and rewinds in flight (tests and graceful shutdown). */
  settled(): Promise<void> {
    return this.work.settled();
  }

  /** True while a launch, replacement, drain or rewind runs in the background. */
  get busy(): boolean {
    return this.work.busy;
  }

  track(task: Promise<unknown>): void {
    this.work.track(task);
  }

  // ---- visitors ------------------------------------------------------------------------------

  /** Answers at once; the container is created and followed in the background (visitor-launch.ts). */
  launch(appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult> {
    return launchForVisitor(this, this.rate, () => this.newUniqueId(), appName, owner, requestId);
  }

  private newUniqueId(): string {
    let id = this.options.newId();
    while (this.registry.isTaken(id)) id = this.options.newId();
    return id;
  }

  queueInfo(id: string): { position: number; estimatedWaitSeconds: number } | undefined {
    return queueInfo(this, id);
  }

  touch(id: string): void {
    touch(this, id);
  }

  promoteQueued(): void {
    promoteQueued(this);
  }

  // ---- operator actions -------------------------------------------------------------------------

  /** Gives a live demo more time (an admin action); on disk before this returns. */
  extend(id: string, byMs: number): Promise<Demo> {
    return extendLease(this, id, byMs);
  }

  /** Starts a zero-downtime replacement; answers at once with the demo (its `replacement` tells how it goes). */
  replace(id: string, image?: string): Promise<Demo> {
    return startReplacement(this, id, image);
  }

  /** Rewinds a demo's database to a state source (the app's default when none is named); answers with the job once it is
   * in the state file, so a controller killed right after the answer still resumes the job the caller was told about. */
  async rewind(id: string, source?: string): Promise<{ job: Job; created: boolean }> {
    const started = requestRewind(this, id, source, () => this.options.newId());
    await this.saver.flushed();
    return started;
  }

  /** Saves a ready demo's container as a snapshot source of its app; answers with the job once it is in the state file. */
  async snapshot(id: string, source: string): Promise<Job> {
    const job = requestSnapshot(this, id, source, () => this.options.newId());
    await this.saver.flushed();
    return job;
  }

  /** The last lines its newest container printed (the operator's view; visitors never see an app's output). */
  async logs(id: string, lines: number): Promise<string> {
    const demo = this.registry.get(id);
    if (!demo) throw new DomainError({ code: "no-such-demo", id });
    const instance = [...demo.instances].reverse().find((candidate) => candidate.containerId);
    return instance ? this.options.runtime.logTail(instance.containerId!, lines) : "";
  }

  job(id: string): Job | undefined {
    return this.registry.jobs.get(id);
  }

  async stop(id: string): Promise<boolean> {
    const demo = this.registry.get(id);
    if (!demo) return false;
    await this.end(demo, "stopped", "it was stopped");
    return true;
  }

  /** Ends every demo for a shutdown (beginShutdown first, so nothing starts again meanwhile); answers how many. */
  async stopAll(): Promise<number> {
    this.beginShutdown();
    const all = this.registry.all();
    await Promise.all(all.map((demo) => this.end(demo, "stopped", "the launcher was shut down")));
    return all.length;
  }

  /** Ends a demo (lifecycle.ts): its event, its ended record and a save, its route, then its containers. */
  end(demo: Demo, status: EndedDemo["status"], reason: string): Promise<void> {
    return endDemo(this, demo, status, reason);
  }

  async removeQuietly(containerId: string): Promise<void> {
    try {
      await this.options.runtime.remove(containerId);
    } catch (error) {
      // The next Docker sync finds it again and retries; an outage is reported once, elsewhere.
      if (error instanceof RuntimeUnavailableError) return this.outage.lost(error.message, this.closed);
      this.logger.error(`removing container ${containerId.slice(0, 12)} failed: ${describeError(error)}`);
    }
  }

  // ---- the reaper ------------------------------------------------------------------------------

  /** One reaper pass (see reaper-pass.ts): expiry from memory every tick, a full Docker sync every few ticks. */
  reapTick(): Promise<void> {
    this.ticks += 1;
    return reapPass(this, this.ticks, this.rate, () => this.newUniqueId());
  }

  syncWithDocker(): Promise<void> {
    return syncWithDocker(this);
  }

  publishRoutes(): Promise<number> {
    // Each app says whether it wants the time-left banner; preview sources never do (a team's own copy).
    // From the call on: a launch that answers while this write runs gathers with the next one, not right behind it.
    this.registry.routesPublishedAt = this.now();
    this.registry.transitions.notify();
    return this.options.routes.publish(() => demoRoutes(this.registry.values(), this.now(), (demo) => this.specFor(demo)));
  }

  specFor(demo: Demo): AppSpec | undefined {
    const spec = demo.kind === "preview" ? this.options.previews?.[demo.app] : this.options.apps[demo.app];
    return spec && demo.withoutEnv ? { ...spec, env: {} } : spec;
  }

  // ---- queries ---------------------------------------------------------------------------------

  get(id: string): Demo | undefined {
    return this.registry.get(id);
  }

  getEnded(id: string): EndedDemo | undefined {
    return this.registry.getEnded(id);
  }

  /** Visitors' demos (warm pool members are counted by poolStatus instead). */
  list(): Demo[] {
    return this.registry
      .all()
      .filter((demo) => !demo.pooled)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  currentGeneration(): number {
    return this.options.routes.generation;
  }

  poolStatus(): Record<string, { ready: number; starting: number }> {
    return poolStatus(this);
  }

  dockerStatus(): { state: "ok" | "unreachable"; since?: string } {
    return this.outage.status();
  }
}
