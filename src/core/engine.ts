// The demo engine: launch, readiness, routing, expiry and start-up reconciliation, with every edge passed in.
import type { AppConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { describeError, ProblemError } from "./errors.js";
import { formatDuration } from "./duration.js";
import { labelsFor, parseLabels, type Demo } from "./model.js";
import { hostFor } from "./naming.js";
import { pickCandidatePort, type PortRange } from "./ports.js";
import { routesFor } from "./routes.js";
import {
  PortConflictError,
  type Clock,
  type ContainerRuntime,
  type EndedDemo,
  type EndedStore,
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
  limits: { maxDemos: number; perClient: number };
  newId: () => string;
  runtime: ContainerRuntime;
  readiness: ReadinessProbe;
  confirmRoutes: RouteConfirmer;
  routes: RoutesSink;
  endedStore: EndedStore;
  clock: Clock;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** How long to wait for nginx to serve a new route before calling the demo ready anyway. */
  routeConfirmTimeoutMs?: number;
  /** How long ended demos are remembered (their hosts say "expired" instead of "unknown"). */
  endedRetentionMs?: number;
}

export interface LaunchResult {
  demo: Demo;
  /** False when the visitor already had a live demo and gets that one back. */
  created: boolean;
}

const PORT_ATTEMPTS = 20;
const MAX_ENDED = 10_000;
const DOCKER_SYNC_EVERY_TICKS = 5;

export class DemoEngine {
  private readonly demos = new Map<string, Demo>();
  private readonly ended = new Map<string, EndedDemo>();
  /** Ids whose container is being created right now: Docker may show them half-made. */
  private readonly launching = new Set<string>();
  private generation = 0;
  private lastRoutesKey: string | undefined;
  private renderChain: Promise<unknown> = Promise.resolve();
  private renderPending: Promise<number> | undefined;
  private persistChain: Promise<void> = Promise.resolve();
  private ticks = 0;
  private closed = false;
  private readonly background = new Set<Promise<unknown>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EngineOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- start-up ---------------------------------------------------------------------------

  /** Adopts live demos, reaps overdue and half-made ones, and renders: Docker labels are the truth. */
  async start(): Promise<void> {
    for (const entry of await this.options.endedStore.load().catch(() => [])) this.ended.set(entry.id, entry);
    const current = await this.options.routes.readCurrent();
    this.generation = current.generation;
    const containers = await this.options.runtime.list(this.options.namespace);
    await Promise.all(containers.map((container) => this.adoptOrReap(container, current.hosts)));
    await this.requestRender();
    this.persistEnded();
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
    const base = { id: labels.id, app: labels.app, host: labels.host, port: labels.port, containerId: container.containerId, createdAt: labels.createdAt, expiresAt: labels.expiresAt, ...(labels.client ? { client: labels.client } : {}) };
    const endedBefore = this.ended.get(labels.id);
    let endReason: { status: EndedDemo["status"]; reason: string } | undefined;
    if (endedBefore) endReason = { status: endedBefore.status, reason: endedBefore.reason };
    else if (labels.expiresAt <= now) endReason = { status: "expired", reason: "its time box ended" };
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
    this.track(this.awaitReadyAndRoute(demo, app?.readiness ?? { path: "/", timeout: 60_000 }));
  }

  // ---- launch -----------------------------------------------------------------------------

  /** Answers at once; the container is created and followed in the background. */
  launch(appName: unknown, client: string | undefined): LaunchResult {
    if (this.closed) throw new ProblemError("full", "The launcher is shutting down; try again in a moment.", { retryAfterSeconds: 5 });
    if (typeof appName !== "string" || !Object.hasOwn(this.options.apps, appName)) {
      const allowed = Object.keys(this.options.apps);
      throw new ProblemError("unknown-app", `${typeof appName === "string" ? JSON.stringify(appName.slice(0, 60)) : "A missing app"} is not an app here; allowed: ${allowed.join(", ")}.`, { extra: { allowed } });
    }
    const app = this.options.apps[appName]!;
    const live = [...this.demos.values()];
    if (client) {
      const mine = live.filter((demo) => demo.client === client).sort((a, b) => b.createdAt - a.createdAt);
      if (mine.length >= this.options.limits.perClient) return { demo: mine[0]!, created: false };
    }
    if (live.length >= this.options.limits.maxDemos) {
      const soonest = Math.min(...live.map((demo) => demo.expiresAt));
      const waitSeconds = Number.isFinite(soonest) ? Math.max(1, Math.ceil((soonest - this.now()) / 1000)) : 60;
      throw new ProblemError("full", `All ${this.options.limits.maxDemos} demo slots are in use. A slot frees in about ${formatDuration(waitSeconds * 1000)}.`, { retryAfterSeconds: waitSeconds });
    }
    const now = this.now();
    let id = this.options.newId();
    while (this.demos.has(id) || this.ended.has(id)) id = this.options.newId();
    const demo: Demo = {
      id,
      app: appName,
      host: hostFor(id, this.options.domain),
      port: 0,
      createdAt: now,
      expiresAt: now + app.ttl,
      status: "starting",
      step: "creating",
      ...(client ? { client } : {}),
    };
    this.demos.set(id, demo);
    this.track(this.runLaunch(demo, app));
    return { demo, created: true };
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
            labels: labelsFor({ ...demo, namespace: this.options.namespace }),
            env: app.env,
            memoryBytes: app.memory,
            cpus: app.cpus,
            pids: app.pids,
            network: this.options.network,
          });
          break;
        } catch (error) {
          if (!(error instanceof PortConflictError)) throw error;
          // Someone else bound it between our choice and Docker's bind: choose again.
          busy.add(port);
          demo.port = 0;
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
    await this.awaitReadyAndRoute(demo, app.readiness);
  }

  /** Polls the app until it answers, watching for a crash; then routes it and waits until nginx serves it. */
  private async awaitReadyAndRoute(demo: Demo, readiness: { path: string; timeout: number }): Promise<void> {
    const deadline = demo.createdAt + readiness.timeout;
    let interval = 50;
    let lastInspect = 0;
    while (true) {
      if (!this.isCurrent(demo)) return;
      if (await this.options.readiness(demo.port, readiness.path).catch(() => false)) break;
      if (!this.isCurrent(demo)) return;
      const now = this.now();
      if (now - lastInspect >= 1000 && demo.containerId) {
        lastInspect = now;
        const state = await this.options.runtime.inspect(demo.containerId).catch(() => undefined);
        if (!state || state.state !== "running") {
          const logs = demo.containerId ? await this.options.runtime.logTail(demo.containerId, 5) : "";
          const cause = !state ? "its container disappeared" : state.oomKilled ? "it ran out of memory" : `it exited with code ${state.exitCode}`;
          await this.fail(demo, `the app stopped while starting: ${cause}${logs ? `. Last output: ${logs.slice(-400)}` : ""}`);
          return;
        }
      }
      if (now >= deadline) {
        await this.fail(demo, `the app did not answer on ${readiness.path} within ${formatDuration(readiness.timeout)}`);
        return;
      }
      await this.sleep(interval);
      interval = Math.min(500, Math.round(interval * 1.5));
    }
    demo.step = "routing";
    const generation = await this.requestRender();
    const confirmed = await this.options.confirmRoutes(generation, this.options.routeConfirmTimeoutMs ?? 10_000).catch(() => false);
    if (!this.isCurrent(demo)) return;
    if (!confirmed) this.options.logger.warn(`demo ${demo.id}: nginx did not confirm routes generation ${generation}; calling it ready anyway (check the watcher)`);
    demo.status = "ready";
    demo.step = "done";
  }

  private async fail(demo: Demo, reason: string): Promise<void> {
    this.options.logger.warn(`demo ${demo.id} (${demo.app}) failed: ${reason}`);
    demo.status = "failed";
    demo.reason = reason;
    await this.end(demo, "failed", reason);
  }

  // ---- ending -----------------------------------------------------------------------------

  /** Forgets the demo, drops its route, then removes its container; idempotent. */
  private async end(demo: Demo, status: EndedDemo["status"], reason: string): Promise<void> {
    if (this.demos.get(demo.id) !== demo) return;
    this.demos.delete(demo.id);
    if (demo.status !== "failed") demo.status = status;
    this.recordEnded({ id: demo.id, app: demo.app, status, reason, endedAt: this.now() });
    this.persistEnded();
    await this.requestRender().catch((error) => this.options.logger.error(`render failed: ${describeError(error)}`));
    if (demo.containerId) await this.removeQuietly(demo.containerId);
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
    const expired = [...this.demos.values()].filter((demo) => demo.expiresAt <= now);
    await Promise.all(expired.map((demo) => this.end(demo, "expired", "its time box ended")));
    if (this.ticks % DOCKER_SYNC_EVERY_TICKS === 1) {
      await this.syncWithDocker();
      await this.requestRender();
    }
  }

  /** Catches what memory cannot see: crashed apps, containers removed by hand, stragglers. */
  async syncWithDocker(): Promise<void> {
    const containers = await this.options.runtime.list(this.options.namespace);
    const seen = new Set<string>();
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
        await this.end(demo, "failed", "the app stopped unexpectedly");
      }
    }
    for (const demo of [...this.demos.values()]) {
      if (!seen.has(demo.id) && !this.launching.has(demo.id) && demo.containerId) {
        await this.end(demo, "failed", "its container was removed outside the launcher");
      }
    }
  }

  private async removeQuietly(containerId: string): Promise<void> {
    try {
      await this.options.runtime.remove(containerId);
    } catch (error) {
      // The next Docker sync finds it again and retries.
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

  private persistEnded(): void {
    const snapshot = () => [...this.ended.values()];
    this.persistChain = this.persistChain.then(() => this.options.endedStore.save(snapshot())).catch((error) => this.options.logger.error(`saving ended demos failed: ${describeError(error)}`));
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
    const routes = routesFor(this.demos.values(), this.now());
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

  list(): Demo[] {
    return [...this.demos.values()].sort((a, b) => a.createdAt - b.createdAt);
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
    await Promise.allSettled([...this.background]);
    await this.persistChain;
  }

  /** Waits for launches in flight (tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }
}

class LaunchFailure extends Error {}
