// What every flow is handed instead of the engine: the edges, the registry, the background work, and the small
// keepers of state (routing, restart attempts, pool pauses, the launch gate). The engine is the front door only.
import type { AppSpec } from "./app-spec.js";
import { BackgroundWork } from "./background.js";
import type { EngineContext, EngineOptions } from "./context.js";
import { LaunchGate } from "./demos/disk.js";
import { DockerOutage } from "./instances/docker-outage.js";
import { describeError } from "./errors.js";
import { emitTo, type EngineEvent } from "./events.js";
import { RestartAttempts } from "./instances/instances.js";
import { endDemo } from "./lifecycle.js";
import type { Demo } from "./model.js";
import { PreparedStock } from "./demos/prepared.js";
import { PoolPauses } from "./demos/pool.js";
import { DemoRegistry } from "./registry.js";
import { RouteDesk } from "./routing/route-desk.js";
import { RuntimeUnavailableError, type EndedDemo } from "./runtime.js";
import { StateSaver } from "./state/state-saver.js";
import { promoteQueued } from "./demos/waiting-line.js";

export class EngineCore implements EngineContext {
  readonly registry: DemoRegistry;
  readonly outage: DockerOutage;
  readonly saver: StateSaver;
  readonly logger: EngineOptions["logger"];
  readonly routing: RouteDesk;
  readonly restarts = new RestartAttempts();
  readonly poolPauses = new PoolPauses();
  readonly prepared = new PreparedStock();
  readonly watch = { following: false, listingDue: false };
  /** Instance ids whose container is being created right now: Docker may show them half-made. */
  readonly creating = new Set<string>();
  /** Closed by the disk guard while the host is below its free-space floor. */
  readonly gate = new LaunchGate();
  readonly work: BackgroundWork;

  constructor(readonly options: EngineOptions) {
    this.logger = options.logger;
    this.work = new BackgroundWork(options.scheduler, options.logger);
    this.registry = new DemoRegistry(options.endedRetentionMs ?? 24 * 3_600_000);
    this.outage = new DockerOutage(() => this.now(), options.logger);
    this.saver = new StateSaver(options.stateStore, this.registry, options.logger);
    this.routing = new RouteDesk(options.routes, this.registry, () => this.now(), (demo) => this.specFor(demo), (demo) => options.gateOf?.(demo), (demo) => options.hostsOf?.(demo) ?? [], () => this.prepared.values());
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

  get stopping(): AbortSignal {
    return this.work.stopping;
  }

  track(task: Promise<unknown>): void {
    this.work.track(task);
  }

  /** An id no live or remembered demo has. */
  newUniqueId(): string {
    let id = this.options.newId();
    while (this.registry.isTaken(id) || this.prepared.has(id)) id = this.options.newId();
    return id;
  }

  publishRoutes(): Promise<number> {
    return this.routing.publish();
  }

  /** Ends a demo (lifecycle.ts): its event, its ended record and a save, its route, then its containers. */
  end(demo: Demo, status: EndedDemo["status"], reason: string): Promise<void> {
    return endDemo(this, demo, status, reason);
  }

  promoteQueued(): void {
    promoteQueued(this);
  }

  specFor(demo: Demo): AppSpec | undefined {
    const spec = demo.kind === "preview" ? this.options.previews?.[demo.app] : this.options.apps[demo.app];
    if (!spec) return undefined;
    if (demo.withoutEnv) return { ...spec, env: {} };
    return demo.envOverrides ? { ...spec, env: { ...spec.env, ...demo.envOverrides } } : spec;
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
}
