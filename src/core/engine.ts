// The demo engine: launch, readiness, routing, expiry and start-up reconciliation, with every edge passed in.
import type { AppConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { describeError, LastingFault, ProblemError } from "./errors.js";
import { formatDuration } from "./duration.js";
import { labelsFor, parseLabels, type Demo } from "./model.js";
import { hostFor } from "./naming.js";
import { pickCandidatePort, type PortRange } from "./ports.js";
import { routesFor } from "./routes.js";
import { estimateWaitMs, LaunchRateLimiter } from "./limits.js";
import {
  PortConflictError,
  RuntimeUnavailableError,
  type Clock,
  type ContainerInspection,
  type ContainerRuntime,
  type EndedDemo,
  type EngineState,
  type Lease,
  type QueuedDemo,
  type StateStore,
  type ReadinessProbe,
  type RouteConfirmer,
  type RoutesSink,
  type RuntimeContainer,
} from "./runtime.js";

export interface EngineOptions {
  domain: string;
  namespace: string;
  network: string;
  apps: Record<string, AppConfig>;
  ports: PortRange;
  limits: { maxDemos: number; perClient: number; queueLength: number; launchesPerClient: number; launchWindow: number };
  newId: () => string;
  runtime: ContainerRuntime;
  readiness: ReadinessProbe;
  confirmRoutes: RouteConfirmer;
  routes: RoutesSink;
  stateStore: StateStore;
  clock: Clock;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** How long to wait for nginx to serve a new route before calling the demo ready anyway. */
  routeConfirmTimeoutMs?: number;
  /** How long ended demos are remembered (their hosts say "expired" instead of "unknown"). */
  endedRetentionMs?: number;
  /** A queued visitor whose page has not asked for this long has left; their place goes to the next. */
  queueAbandonMs?: number;
}

export interface LaunchResult {
  demo: Demo;
  /** False when the visitor already had a live demo and gets that one back. */
  created: boolean;
}

const PORT_ATTEMPTS = 20;
const MAX_ENDED = 10_000;
const DOCKER_SYNC_EVERY_TICKS = 5;
const QUEUE_ABANDON_MS = 45_000;
/** An unclaimed warm container is recycled after this long, so a pool never runs stale for days. */
const POOL_IDLE_MS = 6 * 3_600_000;
/** After a pool member fails to start, that app's pool waits this long before trying again. */
const POOL_RETRY_MS = 30_000;
/** While Docker does not answer, launches wait for it this often. */
const DOCKER_RETRY_MS = 1000;
const DOCKER_RECOVERY_WINDOW_MS = 60_000;
/** A demo stopped from outside is started again at most this many times. */
const MAX_RESTARTS = 5;
const MAX_REFUSED_RESTARTS = 30;
/** Limits of an admin's extension: a demo is a demo, not a server. */
const MAX_EXTENSION_MS = 24 * 3_600_000;
const MAX_REMAINING_MS = 48 * 3_600_000;

export class DemoEngine {
  private readonly demos = new Map<string, Demo>();
  private readonly ended = new Map<string, EndedDemo>();
  /** Ids whose container is being created right now: Docker may show them half-made. */
  private readonly launching = new Set<string>();
  /** Ids of queued demos, first in line first. */
  private readonly queue: string[] = [];
  private readonly rate: LaunchRateLimiter;
  /** Claimed pool containers: owner and expiry that their labels could not know. */
  private readonly leases = new Map<string, Lease>();
  private readonly poolPausedUntil = new Map<string, number>();
  private readonly restartAttempts = new Map<string, { started: number; refused: number }>();
  private generation = 0;
  private lastRoutesKey: string | undefined;
  private renderChain: Promise<unknown> = Promise.resolve();
  private renderPending: Promise<number> | undefined;
  private persistChain: Promise<void> = Promise.resolve();
  private persistQueued = false;
  private ticks = 0;
  private closed = false;
  private readonly background = new Set<Promise<unknown>>();
  private readonly sleep: (ms: number) => Promise<void>;
  /** Set while Docker does not answer; reported once when it goes and once when it comes back. */
  private dockerDownSince: number | undefined;
  /**
   * Docker went away: until then, ready demos whose containers it stopped on the way down are started again.
   * A window, not a flag, because Docker may still answer for a moment while it is stopping them.
   */
  private restartStoppedUntil = 0;
  private unwatchDocker: (() => void) | undefined;
  /** The last render error, so a failing disk is reported once, not at every retry. */
  private readonly renderFault = new LastingFault();
  private readonly saveFault = new LastingFault();

  constructor(private readonly options: EngineOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.rate = new LaunchRateLimiter(options.limits.launchesPerClient, options.limits.launchWindow);
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- start-up ---------------------------------------------------------------------------

  /** Adopts live demos, reaps overdue and half-made ones, and renders: Docker labels are the truth. */
  async start(): Promise<void> {
    const state: EngineState = await this.options.stateStore.load().catch(() => ({ ended: [], queued: [] }));
    for (const entry of state.ended) this.ended.set(entry.id, entry);
    for (const lease of state.leases ?? []) this.leases.set(lease.id, lease);
    const current = await this.options.routes.readCurrent();
    this.generation = current.generation;
    const containers = await this.options.runtime.list(this.options.namespace);
    await Promise.all(containers.map((container) => this.adoptOrReap(container, current.hosts)));
    const now = this.now();
    for (const waiting of state.queued) {
      const app = this.options.apps[waiting.app];
      if (!app || this.demos.has(waiting.id) || this.ended.has(waiting.id)) continue;
      // A restart is not the visitor's fault: their place is kept and their page gets a fresh grace period.
      this.demos.set(waiting.id, { ...this.newDemo(waiting, app.ttl, "queued"), lastSeenAt: now });
      this.queue.push(waiting.id);
    }
    for (const launch of state.starting ?? []) {
      const app = this.options.apps[launch.app];
      if (!app || this.demos.has(launch.id) || this.ended.has(launch.id)) continue;
      if (launch.queuedAt + app.ttl <= now) {
        this.recordEnded({ id: launch.id, app: launch.app, status: "expired", reason: "its time box ended", endedAt: now });
        continue;
      }
      // Its visitor already has the URL: a launch the last run accepted but never handed to Docker starts now.
      const demo = this.newDemo(launch, app.ttl, "starting");
      this.demos.set(launch.id, demo);
      this.track(this.runLaunch(demo, app));
    }
    await this.requestRender();
    this.promoteQueued();
    this.ensurePools();
    this.persistState();
    // A broken connection only opens the restart window: the outage is reported when a call finds nobody there.
    this.unwatchDocker = this.options.runtime.watchConnection?.(() => this.openRestartWindow());
  }

  /** Docker stopped answering: say so once; launches wait, ready demos keep their routes meanwhile. */
  private dockerLost(cause: string): void {
    this.openRestartWindow();
    if (this.dockerDownSince !== undefined || this.closed) return;
    this.dockerDownSince = this.now();
    this.options.logger.error(`Docker is not answering (${cause}); demos keep their routes, launches wait for it, retrying every second`);
  }

  private openRestartWindow(): void {
    this.restartStoppedUntil = this.now() + DOCKER_RECOVERY_WINDOW_MS;
  }

  /** Whether Docker answered the last time we asked (for /api/status). */
  dockerStatus(): { state: "ok" | "unreachable"; since?: string } {
    return this.dockerDownSince === undefined ? { state: "ok" } : { state: "unreachable", since: new Date(this.dockerDownSince).toISOString() };
  }

  private async adoptOrReap(container: RuntimeContainer, routedHosts: ReadonlySet<string>): Promise<void> {
    const labels = parseLabels(container.labels);
    const now = this.now();
    if (!labels) {
      this.options.logger.warn(`removing container ${container.containerId.slice(0, 12)}: its demo-launcher labels are damaged`);
      await this.removeQuietly(container.containerId);
      return;
    }
    if (this.demos.has(labels.id) || this.launching.has(labels.id)) return;
    // Labels cannot change after creation: a claimed pool container's owner and any extended expiry are in
    // its lease; a pool container without one is still in the pool.
    const lease = this.leases.get(labels.id);
    const expiresAt = lease?.expiresAt ?? labels.expiresAt;
    const client = lease ? lease.client : labels.client;
    const base = { id: labels.id, app: labels.app, host: labels.host, port: labels.port, containerId: container.containerId, createdAt: labels.createdAt, expiresAt, ...(client ? { client } : {}), ...(labels.pool && !lease ? { pooled: true } : {}) };
    const endedBefore = this.ended.get(labels.id);
    let endReason: { status: EndedDemo["status"]; reason: string } | undefined;
    if (endedBefore) endReason = { status: endedBefore.status, reason: endedBefore.reason };
    else if (expiresAt <= now) endReason = { status: "expired", reason: "its time box ended" };
    else if (container.state === "created") endReason = { status: "failed", reason: "its launch was interrupted; please launch again" };
    else if (container.state === "exited" || container.state === "dead") endReason = { status: "failed", reason: "the app stopped unexpectedly" };
    if (endReason) {
      this.recordEnded({ id: labels.id, app: labels.app, ...endReason, endedAt: endedBefore?.endedAt ?? now });
      await this.removeQuietly(container.containerId);
      return;
    }
    const app = this.options.apps[labels.app];
    // A demo whose route was live before we restarted is served again at once, without a new check.
    if (routedHosts.has(labels.host)) {
      this.demos.set(labels.id, { ...base, status: "ready", step: "done" });
      return;
    }
    const demo: Demo = { ...base, status: "starting", step: "waiting-for-app" };
    this.demos.set(labels.id, demo);
    this.track(this.awaitReadyAndRoute(demo, app?.readiness ?? { path: "/", timeout: 60_000 }, labels.createdAt));
  }

  // ---- launch -----------------------------------------------------------------------------

  /** Answers at once; the container is created and followed in the background. */
  async launch(appName: unknown, client: string | undefined): Promise<LaunchResult> {
    if (this.closed) throw new ProblemError("full", "The launcher is shutting down; try again in a moment.", { retryAfterSeconds: 5 });
    if (typeof appName !== "string" || !Object.hasOwn(this.options.apps, appName)) {
      const allowed = Object.keys(this.options.apps);
      const given = typeof appName === "string" ? `${JSON.stringify(appName.slice(0, 60))} is not an app here` : appName === undefined ? "Name the app to launch" : `The app must be one name, not ${Array.isArray(appName) ? "a list" : appName === null ? "null" : `a ${typeof appName}`}`;
      throw new ProblemError("unknown-app", `${given}; allowed: ${allowed.join(", ")}.`, { extra: { allowed } });
    }
    const app = this.options.apps[appName]!;
    const now = this.now();
    const live = [...this.demos.values()];
    if (client) {
      const mine = live.filter((demo) => demo.client === client).sort((a, b) => b.createdAt - a.createdAt);
      if (mine.length >= this.options.limits.perClient) return { demo: mine[0]!, created: false };
      const wait = this.rate.retryAfterSeconds(client, now);
      if (wait > 0) throw new ProblemError("rate-limited", `You launched ${this.options.limits.launchesPerClient} demos in the last ${formatDuration(this.options.limits.launchWindow)}. Try again in about ${formatDuration(wait * 1000)}.`, { retryAfterSeconds: wait });
    }
    const startsNow = this.runningCount() < this.options.limits.maxDemos && this.queue.length === 0;
    if (!startsNow && this.queue.length >= this.options.limits.queueLength) {
      const waitSeconds = Math.max(1, Math.ceil(this.estimateWait(this.queue.length + 1, app.ttl) / 1000));
      const line = this.options.limits.queueLength > 0 ? " and the waiting line is full" : "";
      throw new ProblemError("full", `All ${this.options.limits.maxDemos} demo slots are in use${line}. Try again in about ${formatDuration(waitSeconds * 1000)}.`, { retryAfterSeconds: waitSeconds });
    }
    if (startsNow) {
      const warm = this.readyPoolMember(appName);
      if (warm) {
        if (client) this.rate.record(client, now);
        await this.claim(warm, app, client);
        return { demo: warm, created: true };
      }
    }
    const id = this.newUniqueId();
    const demo: Demo = {
      ...this.newDemo({ id, app: appName, queuedAt: now, ...(client ? { client } : {}) }, app.ttl, startsNow ? "starting" : "queued"),
      ...(startsNow ? {} : { lastSeenAt: now }),
    };
    this.demos.set(id, demo);
    if (client) this.rate.record(client, now);
    if (startsNow) this.track(this.runLaunch(demo, app));
    else this.queue.push(id);
    // On disk before the visitor learns the URL, so a restart never forgets a launch it accepted.
    this.persistState();
    await this.persistChain;
    return { demo, created: true };
  }

  /** A demo that has no container yet: waiting in line, or about to be created; its time box starts at queuedAt. */
  private newDemo(launch: QueuedDemo, ttl: number, status: "queued" | "starting"): Demo {
    return {
      id: launch.id,
      app: launch.app,
      host: hostFor(launch.id, this.options.domain),
      port: 0,
      createdAt: launch.queuedAt,
      expiresAt: launch.queuedAt + ttl,
      status,
      step: status === "queued" ? "queued" : "creating",
      ...(launch.client ? { client: launch.client } : {}),
    };
  }

  private newUniqueId(): string {
    let id = this.options.newId();
    while (this.demos.has(id) || this.ended.has(id)) id = this.options.newId();
    return id;
  }

  /** A demo holds a slot while starting or ready; not while waiting in line or idle in the warm pool. */
  private static holdsSlot(demo: Demo): boolean {
    return demo.status !== "queued" && !demo.pooled;
  }

  private runningCount(): number {
    let count = 0;
    for (const demo of this.demos.values()) if (DemoEngine.holdsSlot(demo)) count += 1;
    return count;
  }

  private readyPoolMember(app: string): Demo | undefined {
    for (const demo of this.demos.values()) if (demo.pooled && demo.app === app && demo.status === "ready") return demo;
    return undefined;
  }

  /**
   * Hands a warm container to a visitor: a lease change only, no container start, no nginx reload.
   * The lease is on disk before anyone learns the URL, so a restart never gives it to someone else.
   */
  private async claim(demo: Demo, app: AppConfig, client: string | undefined): Promise<void> {
    const now = this.now();
    delete demo.pooled;
    demo.expiresAt = now + app.ttl;
    if (client) demo.client = client;
    else delete demo.client;
    this.leases.set(demo.id, { id: demo.id, expiresAt: demo.expiresAt, ...(client ? { client } : {}) });
    this.persistState();
    await this.persistChain;
    this.ensurePools();
  }

  /** Keeps each app's warm pool full; members start (and get routed) like any demo. */
  ensurePools(): void {
    if (this.closed) return;
    const now = this.now();
    for (const [name, app] of Object.entries(this.options.apps)) {
      if (app.pool <= 0 || (this.poolPausedUntil.get(name) ?? 0) > now) continue;
      let members = 0;
      for (const demo of this.demos.values()) if (demo.pooled && demo.app === name) members += 1;
      for (; members < app.pool; members += 1) {
        const id = this.newUniqueId();
        const demo: Demo = { ...this.newDemo({ id, app: name, queuedAt: now }, POOL_IDLE_MS, "starting"), pooled: true };
        this.demos.set(id, demo);
        this.track(this.runLaunch(demo, app));
      }
    }
  }

  /** Warm containers per app, for /api/status. */
  poolStatus(): Record<string, { ready: number; starting: number }> {
    const status: Record<string, { ready: number; starting: number }> = {};
    for (const [name, app] of Object.entries(this.options.apps)) if (app.pool > 0) status[name] = { ready: 0, starting: 0 };
    for (const demo of this.demos.values()) {
      if (!demo.pooled || !status[demo.app]) continue;
      if (demo.status === "ready") status[demo.app]!.ready += 1;
      else status[demo.app]!.starting += 1;
    }
    return status;
  }

  private estimateWait(position: number, ttl: number): number {
    // Idle pool members free no slot when they are recycled, so only slot holders count.
    const expiries = [...this.demos.values()].filter(DemoEngine.holdsSlot).map((demo) => demo.expiresAt);
    return estimateWaitMs(expiries, position, ttl, this.now());
  }

  /** Place in line (1 = next) and the estimated wait, for a queued demo. */
  queueInfo(id: string): { position: number; estimatedWaitSeconds: number } | undefined {
    const index = this.queue.indexOf(id);
    const demo = this.demos.get(id);
    if (index < 0 || !demo) return undefined;
    const ttl = this.options.apps[demo.app]?.ttl ?? 600_000;
    return { position: index + 1, estimatedWaitSeconds: Math.ceil(this.estimateWait(index + 1, ttl) / 1000) };
  }

  /** The visitor's page asked about their queued demo: they are still waiting. */
  touch(id: string): void {
    const demo = this.demos.get(id);
    if (demo?.status === "queued") demo.lastSeenAt = this.now();
  }

  /** Starts the first in line while there are free slots; their time box starts now. */
  private promoteQueued(): void {
    let promoted = false;
    while (!this.closed && this.queue.length > 0 && this.runningCount() < this.options.limits.maxDemos) {
      const id = this.queue.shift()!;
      const demo = this.demos.get(id);
      const app = demo ? this.options.apps[demo.app] : undefined;
      if (!demo || demo.status !== "queued" || !app) continue;
      const now = this.now();
      demo.status = "starting";
      demo.step = "creating";
      demo.createdAt = now;
      demo.expiresAt = now + app.ttl;
      delete demo.lastSeenAt;
      promoted = true;
      this.track(this.runLaunch(demo, app));
    }
    if (promoted) this.persistState();
  }

  private isCurrent(demo: Demo): boolean {
    return !this.closed && this.demos.get(demo.id) === demo && demo.status === "starting";
  }

  private takenPorts(): Set<number> {
    const taken = new Set<number>();
    for (const demo of this.demos.values()) if (demo.port > 0) taken.add(demo.port);
    return taken;
  }

  private async runLaunch(demo: Demo, app: AppConfig): Promise<void> {
    this.launching.add(demo.id);
    try {
      // Docker restarting is not the visitor's fault: wait for it while the app would have had time to start.
      for (;;) {
        try {
          await this.createContainer(demo, app);
          break;
        } catch (error) {
          if (!(error instanceof RuntimeUnavailableError)) throw error;
          this.dockerLost(error.message);
          if (this.now() >= demo.createdAt + app.readiness.timeout) throw new LaunchFailure("Docker did not answer in time");
          if (!this.isCurrent(demo)) break;
          await this.sleep(DOCKER_RETRY_MS);
        }
      }
    } catch (error) {
      this.launching.delete(demo.id);
      if (this.isCurrent(demo)) await this.fail(demo, error instanceof LaunchFailure ? error.message : `the container could not be started (${describeError(error)})`);
      return;
    }
    this.launching.delete(demo.id);
    if (!this.isCurrent(demo)) {
      // Stopped or expired while we were creating it: nothing may outlive its record.
      if (demo.containerId) await this.removeQuietly(demo.containerId);
      return;
    }
    demo.step = "waiting-for-app";
    await this.awaitReadyAndRoute(demo, app.readiness, demo.createdAt);
  }

  /** Picks a port and creates the container, choosing again when the port was taken meanwhile. */
  private async createContainer(demo: Demo, app: AppConfig): Promise<void> {
    if (!(await this.options.runtime.imageExists(app.image))) {
      throw new LaunchFailure(`the image ${app.image} is not on this host`);
    }
    const busy = new Set<number>();
    for (let attempt = 0; ; attempt += 1) {
      if (!this.isCurrent(demo)) return;
      const taken = this.takenPorts();
      for (const port of busy) taken.add(port);
      const port = pickCandidatePort(this.options.ports, taken);
      if (port === undefined || attempt >= PORT_ATTEMPTS) throw new LaunchFailure("no free host port is left in the configured range");
      demo.port = port;
      demo.step = "starting";
      try {
        demo.containerId = await this.options.runtime.createAndStart({
          name: `demo-launcher-${this.options.namespace}-${demo.id}`,
          image: app.image,
          containerPort: app.port,
          hostPort: port,
          labels: labelsFor({ ...demo, namespace: this.options.namespace, ...(demo.pooled ? { pool: true } : {}) }),
          env: app.env,
          memoryBytes: app.memory,
          cpus: app.cpus,
          pids: app.pids,
          network: this.options.network,
        });
        return;
      } catch (error) {
        if (!(error instanceof PortConflictError)) throw error;
        // Someone else bound it between our choice and Docker's bind: choose again.
        busy.add(port);
        demo.port = 0;
      }
    }
  }

  /** Polls the app until it answers, watching for a crash; then routes it and waits until nginx serves it. */
  private async awaitReadyAndRoute(demo: Demo, readiness: { path: string; timeout: number }, since: number): Promise<void> {
    const deadline = since + readiness.timeout;
    // A probe is one loopback connect: polling often costs little and every wasted interval is latency.
    let interval = 20;
    let lastInspect = 0;
    while (true) {
      if (!this.isCurrent(demo)) return;
      if (await this.options.readiness(demo.port, readiness.path).catch(() => false)) break;
      if (!this.isCurrent(demo)) return;
      const now = this.now();
      if (now - lastInspect >= 1000 && demo.containerId) {
        lastInspect = now;
        let state: Awaited<ReturnType<ContainerRuntime["inspect"]>> | "unknown";
        try {
          state = await this.options.runtime.inspect(demo.containerId);
        } catch (error) {
          // Docker restarting says nothing about the app: keep waiting (the deadline still holds).
          if (error instanceof RuntimeUnavailableError) this.dockerLost(error.message);
          state = "unknown";
        }
        if (state !== "unknown" && state?.state !== "running") {
          // A container started again after an outage can be stopped once more by a daemon still going down.
          const startedAgain = state !== undefined && this.now() < this.restartStoppedUntil && (await this.startAgain(demo, state, true).catch(() => true));
          if (!startedAgain) {
            const logs = demo.containerId ? await this.options.runtime.logTail(demo.containerId, 5) : "";
            const cause = !state ? "its container disappeared" : state.oomKilled ? "it ran out of memory" : `it exited with code ${state.exitCode}`;
            // The app's output is for the operator's log only: visitors see the reason, never what it printed.
            if (logs) this.options.logger.warn(`demo ${demo.id} (${demo.app}) last output: ${logs.slice(-1000)}`);
            await this.fail(demo, `the app stopped while starting: ${cause}`);
            return;
          }
        }
      }
      if (now >= deadline) {
        await this.fail(demo, `the app did not answer on ${readiness.path} within ${formatDuration(readiness.timeout)}`);
        return;
      }
      await this.sleep(interval);
      if (now - since > 10_000) interval = 250;
    }
    demo.step = "routing";
    const generation = await this.renderUntilWritten(demo);
    if (generation === undefined) return;
    const timeoutMs = this.options.routeConfirmTimeoutMs ?? 10_000;
    const confirmStarted = this.now();
    let confirmed = await this.options.confirmRoutes(generation, timeoutMs).catch(() => false);
    if (!confirmed && this.now() - confirmStarted < timeoutMs / 2 && this.isCurrent(demo)) {
      // An early "no" means nginx refused the file; the routes edge may have changed course since (fallen
      // back from an operator template nginx refused), so the same routes written again deserve one more try.
      const retry = await this.renderUntilWritten(demo);
      if (retry !== undefined) confirmed = await this.options.confirmRoutes(retry, timeoutMs).catch(() => false);
    }
    if (!this.isCurrent(demo)) return;
    if (!confirmed) this.options.logger.warn(`demo ${demo.id}: nginx did not confirm routes generation ${generation}; calling it ready anyway (check the watcher)`);
    this.restartAttempts.delete(demo.id);
    demo.status = "ready";
    demo.step = "done";
  }

  /**
   * Renders until the routes file is written: a full or read-only disk must not strand a launch half-way.
   * Returns undefined when the demo ended meanwhile.
   */
  private async renderUntilWritten(demo: Demo): Promise<number | undefined> {
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      if (!this.isCurrent(demo)) return undefined;
      try {
        return await this.requestRender();
      } catch {
        // requestRender has reported it (once per distinct error).
        await this.sleep(wait);
      }
    }
  }

  private async fail(demo: Demo, reason: string): Promise<void> {
    this.options.logger.warn(`demo ${demo.id} (${demo.app}) failed: ${reason}`);
    if (demo.pooled) this.poolPausedUntil.set(demo.app, this.now() + POOL_RETRY_MS);
    demo.status = "failed";
    demo.reason = reason;
    await this.end(demo, "failed", reason);
  }

  // ---- ending -----------------------------------------------------------------------------

  /** Forgets the demo, drops its route, then removes its container; idempotent. */
  private async end(demo: Demo, status: EndedDemo["status"], reason: string): Promise<void> {
    if (this.demos.get(demo.id) !== demo) return;
    this.demos.delete(demo.id);
    const queued = this.queue.indexOf(demo.id);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.leases.delete(demo.id);
    this.restartAttempts.delete(demo.id);
    if (demo.status !== "failed") demo.status = status;
    this.recordEnded({ id: demo.id, app: demo.app, status, reason, endedAt: this.now() });
    // The freed slot goes to the first in line at once, not at the next reaper pass.
    this.promoteQueued();
    this.persistState();
    // A failed write was reported by renderOnce; the reaper's next render retries it.
    await this.requestRender().catch(() => {});
    if (demo.containerId) await this.removeQuietly(demo.containerId);
  }

  /**
   * Gives a live demo more time (an admin action). The new expiry is on disk, as a lease, before this
   * returns: a restart must not cut the demo short by going back to its label.
   */
  async extend(id: string, byMs: number): Promise<Demo> {
    const demo = this.demos.get(id);
    if (!demo || demo.pooled) throw new ProblemError("not-found", `There is no live demo ${id}.`);
    if (demo.status === "queued") throw new ProblemError("bad-request", `Demo ${id} is still waiting in line; its time starts when it starts.`);
    if (!(byMs >= 1000 && byMs <= MAX_EXTENSION_MS)) throw new ProblemError("bad-request", `An extension must be from 1s to ${formatDuration(MAX_EXTENSION_MS)}.`);
    const now = this.now();
    const expiresAt = Math.max(demo.expiresAt, now) + byMs;
    if (expiresAt - now > MAX_REMAINING_MS) throw new ProblemError("bad-request", `A demo may have at most ${formatDuration(MAX_REMAINING_MS)} left; ${id} would have ${formatDuration(expiresAt - now)}.`);
    demo.expiresAt = expiresAt;
    this.leases.set(id, { id, expiresAt, ...(demo.client ? { client: demo.client } : {}) });
    this.persistState();
    await this.persistChain;
    return demo;
  }

  async stop(id: string): Promise<boolean> {
    const demo = this.demos.get(id);
    if (!demo) return false;
    await this.end(demo, "stopped", "it was stopped");
    return true;
  }

  async stopAll(): Promise<number> {
    const all = [...this.demos.values()];
    await Promise.all(all.map((demo) => this.end(demo, "stopped", "the launcher was shut down")));
    return all.length;
  }

  /** One reaper pass: expiry from memory every tick, a full Docker sync every few ticks. */
  async reapTick(): Promise<void> {
    this.ticks += 1;
    const now = this.now();
    const expired = [...this.demos.values()].filter((demo) => demo.status !== "queued" && demo.expiresAt <= now);
    await Promise.all(expired.map((demo) => this.end(demo, "expired", "its time box ended")));
    const abandonMs = this.options.queueAbandonMs ?? QUEUE_ABANDON_MS;
    const left = [...this.demos.values()].filter((demo) => demo.status === "queued" && now - (demo.lastSeenAt ?? now) > abandonMs);
    await Promise.all(left.map((demo) => this.end(demo, "stopped", "you left the waiting line")));
    this.promoteQueued();
    this.ensurePools();
    if (this.ticks % 60 === 0) this.rate.prune(now);
    // A save that failed (full disk) is tried again even when nothing changes.
    if (this.saveFault.active && this.ticks % DOCKER_SYNC_EVERY_TICKS === 0) this.persistState();
    // While Docker is away (or just came back), ask every tick: recovery should not wait for the 5th.
    if (this.ticks % DOCKER_SYNC_EVERY_TICKS === 1 || this.dockerDownSince !== undefined || now < this.restartStoppedUntil) {
      try {
        await this.syncWithDocker();
      } catch (error) {
        if (!(error instanceof RuntimeUnavailableError)) throw error;
        this.dockerLost(error.message);
        return;
      }
      // A failed write was reported by renderOnce; the next pass tries again.
      await this.requestRender().catch(() => {});
    }
  }

  /** Catches what memory cannot see: crashed apps, containers removed by hand, stragglers. */
  async syncWithDocker(): Promise<void> {
    const restartStopped = this.now() < this.restartStoppedUntil;
    const containers = await this.options.runtime.list(this.options.namespace);
    if (this.dockerDownSince !== undefined) {
      this.options.logger.info(`Docker answers again after ${formatDuration(this.now() - this.dockerDownSince)}; re-syncing`);
      this.dockerDownSince = undefined;
    }
    const seen = new Set<string>();
    let restarted = 0;
    for (const container of containers) {
      const labels = parseLabels(container.labels);
      if (labels) seen.add(labels.id);
      const demo = labels ? this.demos.get(labels.id) : undefined;
      if (labels && this.launching.has(labels.id)) continue;
      if (!demo) {
        await this.adoptOrReap(container, new Set());
        continue;
      }
      if (container.state === "exited" || container.state === "dead") {
        if (demo.status === "starting") continue; // its readiness loop reports the crash with the logs
        const state = demo.containerId ? await this.options.runtime.inspect(demo.containerId) : undefined;
        if (demo.status === "ready" && state && (await this.restartIfStoppedFromOutside(demo, state, restartStopped))) {
          restarted += 1;
          continue;
        }
        const app = this.options.apps[demo.app];
        const reason = state?.oomKilled ? `the app ran out of memory${app ? ` (its limit is ${Math.round(app.memory / 1048576)} MiB)` : ""}` : "the app stopped unexpectedly";
        await this.fail(demo, reason);
      }
    }
    if (restarted > 0) this.options.logger.info(`starting ${restarted} demo(s) again that were stopped from outside (a Docker restart stops every container)`);
    for (const demo of [...this.demos.values()]) {
      if (seen.has(demo.id) || this.launching.has(demo.id) || !demo.containerId) continue;
      // A daemon on its way down lists no containers at all: around an outage a missing one proves nothing.
      if (restartStopped) continue;
      // A listing is not proof either: only Docker saying "no such container" is.
      if ((await this.options.runtime.inspect(demo.containerId)) !== undefined) continue;
      await this.end(demo, "failed", "its container was removed outside the launcher");
    }
  }

  /**
   * Starts a ready demo's stopped container again when the app did not stop by itself: Docker stops every
   * container when it goes down (unless live-restore is on), with SIGTERM and then SIGKILL, often before its
   * connection breaks. An app's own crash (any other exit code) or running out of memory ends the demo.
   * Returns false when the demo should end.
   */
  private async restartIfStoppedFromOutside(demo: Demo, state: ContainerInspection, aroundOutage: boolean): Promise<boolean> {
    if (!(await this.startAgain(demo, state, aroundOutage))) return false;
    demo.status = "starting";
    demo.step = "waiting-for-app";
    const app = this.options.apps[demo.app];
    this.track(this.awaitReadyAndRoute(demo, app?.readiness ?? { path: "/", timeout: 60_000 }, this.now()));
    return true;
  }

  /**
   * Starts a stopped container again if it was stopped from outside (or around a Docker outage), at most
   * MAX_RESTARTS times per demo. True when it was started or should be tried again; false when it must end.
   */
  private async startAgain(demo: Demo, state: ContainerInspection, aroundOutage: boolean): Promise<boolean> {
    if (!demo.containerId || state.oomKilled) return false;
    const killed = state.exitCode === 128 + 15 || state.exitCode === 128 + 9;
    if (!killed && !aroundOutage) return false;
    // Starts are counted until the demo is ready again (a crash loop ends); refusals only while they last.
    const tries = this.restartAttempts.get(demo.id) ?? { started: 0, refused: 0 };
    if (tries.started >= MAX_RESTARTS || tries.refused >= MAX_REFUSED_RESTARTS) return false;
    this.restartAttempts.set(demo.id, tries);
    try {
      await this.options.runtime.restart(demo.containerId);
      tries.started += 1;
    } catch (error) {
      if (error instanceof RuntimeUnavailableError) throw error;
      // A daemon on its way down, or just back, refuses for a moment; the next sync tries again.
      tries.refused += 1;
      if (tries.refused === 1) this.options.logger.warn(`demo ${demo.id}: starting it again was refused (${describeError(error)}); trying again`);
    }
    return true;
  }

  private async removeQuietly(containerId: string): Promise<void> {
    try {
      await this.options.runtime.remove(containerId);
    } catch (error) {
      // The next Docker sync finds it again and retries; an outage is reported once, elsewhere.
      if (error instanceof RuntimeUnavailableError) return this.dockerLost(error.message);
      this.options.logger.error(`removing container ${containerId.slice(0, 12)} failed: ${describeError(error)}`);
    }
  }

  private recordEnded(entry: EndedDemo): void {
    this.ended.delete(entry.id);
    this.ended.set(entry.id, entry);
    const cutoff = this.now() - (this.options.endedRetentionMs ?? 24 * 3_600_000);
    for (const [id, old] of this.ended) {
      if (this.ended.size <= MAX_ENDED && old.endedAt >= cutoff) break;
      this.ended.delete(id);
    }
  }

  private persistState(): void {
    // The snapshot is taken when the write runs, so a burst of changes costs one write with the latest state.
    const snapshot = () => ({
      ended: [...this.ended.values()],
      queued: this.queue.flatMap((id) => {
        const demo = this.demos.get(id);
        return demo ? [acceptedLaunch(demo)] : [];
      }),
      // Launches whose container Docker may not have yet: without this, a kill in that moment would lose them.
      starting: [...this.demos.values()].filter((demo) => demo.status === "starting" && !demo.pooled).map(acceptedLaunch),
      leases: [...this.leases.values()],
    });
    // A write already queued will take the latest snapshot when it runs: one more would only repeat it.
    if (this.persistQueued) return;
    this.persistQueued = true;
    this.persistChain = this.persistChain
      .then(() => {
        this.persistQueued = false;
        return this.options.stateStore.save(snapshot());
      })
      .then(
        () => {
          if (this.saveFault.clear() !== undefined) this.options.logger.info("the state file is written again");
        },
        (error) => {
          // A full disk fails every save: say so once, and once more when it passes.
          const message = describeError(error);
          if (this.saveFault.record(message)) this.options.logger.error(`saving the state file failed: ${message}; retrying`);
        },
      );
  }

  // ---- routes -----------------------------------------------------------------------------

  /** Coalesces: calls while a render is queued share it; returns the generation that holds the change. */
  requestRender(): Promise<number> {
    if (this.renderPending) return this.renderPending;
    const pending = this.renderChain.then(() => {
      this.renderPending = undefined;
      return this.renderOnce();
    });
    this.renderPending = pending;
    this.renderChain = pending.catch(() => undefined);
    return pending;
  }

  private async renderOnce(): Promise<number> {
    try {
      const generation = await this.renderAndWrite();
      const fault = this.renderFault.clear();
      if (fault !== undefined) this.options.logger.info(`routes file written again (generation ${generation}) after: ${fault}`);
      return generation;
    } catch (error) {
      const message = describeError(error);
      if (this.renderFault.record(message)) this.options.logger.error(`cannot write the routes file: ${message}; nginx keeps the last routes, retrying`);
      throw error;
    }
  }

  private async renderAndWrite(): Promise<number> {
    const routes = routesFor(this.demos.values(), this.now(), (app) => this.options.apps[app]?.banner ?? true);
    const key = JSON.stringify(routes);
    if (key === this.lastRoutesKey) {
      // Nothing changed here, but the file on disk may have been put back by the watcher or by hand:
      // writing the same content again is a no-op, and otherwise it restores our routes.
      await this.options.routes.write(routes, this.generation);
      return this.generation;
    }
    const next = this.generation + 1;
    await this.options.routes.write(routes, next);
    this.generation = next;
    this.lastRoutesKey = key;
    return next;
  }

  // ---- queries ----------------------------------------------------------------------------

  get(id: string): Demo | undefined {
    return this.demos.get(id);
  }

  getEnded(id: string): EndedDemo | undefined {
    return this.ended.get(id);
  }

  /** Visitors' demos (warm pool members are counted by poolStatus instead). */
  list(): Demo[] {
    return [...this.demos.values()].filter((demo) => !demo.pooled).sort((a, b) => a.createdAt - b.createdAt);
  }

  currentGeneration(): number {
    return this.generation;
  }

  private track(task: Promise<unknown>): void {
    const guarded = task.catch((error) => this.options.logger.error(`background task failed: ${describeError(error)}`));
    this.background.add(guarded);
    void guarded.finally(() => this.background.delete(guarded));
  }

  /** Stops background work; containers stay (they are adopted at the next start). Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatchDocker?.();
    await Promise.allSettled([...this.background]);
    await this.persistChain;
  }

  /** Waits for launches in flight (tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }
}

class LaunchFailure extends Error {}

/** How the state file keeps a launch it accepted (waiting in line, or not yet in Docker). */
function acceptedLaunch(demo: Demo): QueuedDemo {
  return { id: demo.id, app: demo.app, queuedAt: demo.createdAt, ...(demo.client ? { client: demo.client } : {}) };
}
