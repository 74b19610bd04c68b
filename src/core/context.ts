// What the engine's modules share: the options with every edge passed in, the registry, and a few operations.
import type { AdmissionLimits } from "./demos/admission.js";
import type { AppSpec as AppConfig } from "./app-spec.js";
import type { Logger } from "./app-spec.js";
import type { DockerOutage } from "./instances/docker-outage.js";
import type { Demo } from "./model.js";
import type { DemoRegistry } from "./registry.js";
import type { ContainerRuntime, EndedDemo, ReadinessProbe, RoutePublisher, StateStore } from "./runtime.js";
import type { StateSaver } from "./state/state-saver.js";
import type { Seeder, StateRestorer } from "./state/state-sources.js";
import type { SharedSpec } from "./shared/shared.js";
import type { EngineEvent, EventSink } from "./events.js";
import type { Scheduler } from "./scheduler.js";
import type { RouteDesk } from "./routing/route-desk.js";
import type { RestartAttempts } from "./instances/instances.js";
import type { PoolPauses } from "./demos/pool.js";
import type { PreparedStock } from "./demos/prepared.js";
import type { LaunchGate } from "./demos/disk.js";

export interface EngineOptions {
  domain: string;
  namespace: string;
  apps: Record<string, AppConfig>;
  /** Preview sources: how their instances run (the image comes from each build). */
  previews?: Record<string, AppConfig>;
  limits: AdmissionLimits;
  newId: () => string;
  runtime: ContainerRuntime;
  readiness: ReadinessProbe;
  routes: RoutePublisher;
  stateStore: StateStore;
  /** Time: now, sleeps and timers (the system scheduler in production, a manual one in tests). */
  scheduler: Scheduler;
  logger: Logger;
  /** How long to wait for nginx to serve a new route before calling the demo ready anyway. */
  routeConfirmTimeoutMs?: number;
  /** How long ended demos are remembered (their hosts say "expired" instead of "unknown"). */
  endedRetentionMs?: number;
  /** A queued visitor whose page has not asked for this long has left; their place goes to the next. */
  queueAbandonMs?: number;
  /** True while requests to previews are counted (nginx writes the log the controller reads): idle stop runs then. */
  idleTracking?: () => boolean;
  /** Reads the requests nginx logged since the last read: done before an idle stop, which must not act on a stale read. */
  readSeenRequests?: () => Promise<void>;
  /** Observers of what happens to demos (metrics, the lifecycle log). */
  events?: EventSink[];
  /** Shared demos: long-lived, several replicas behind one host each. */
  shared?: SharedSpec[];
  /** Restores state sources inside running containers (rewinds); without it, no app can be rewound. */
  restorer?: StateRestorer;
  /** Seeds previews' databases (previews.<source>.state); without it, a preview with a seed fails to start. */
  seeder?: Seeder;
  /** How long a replaced instance keeps running for the requests nginx's old workers still send it. */
  drainMs?: number;
  /** The address visitors use for a host (scheme and public port): a container's DEMO_URL. By default http://<host>. */
  publicOrigin?: (host: string) => string;
  /** The access edge: a gated demo's gate (nginx asks before serving its host); public demos have none. */
  gateOf?: (demo: import("./model.js").Demo) => string | undefined;
  /**
   * Whether a visitor's demo is routed behind the starting gate as soon as its endpoint is known (the default):
   * nginx reloads while Docker starts the container, and the demo is served the moment its app answers. false:
   * routed only once its app answers, gathered with the others of a burst (fewer reloads, each on the launch's path).
   */
  routeEarly?: boolean;
  /** Names a demo answers to beside its host (a shared demo's or a branch preview's `hosts`), routed to the same instances. */
  hostsOf?: (demo: import("./model.js").Demo) => readonly string[];
}

/** The readiness settings of an app that is no longer configured (its demos are still adopted). */
const DEFAULT_READINESS = { path: "/", timeout: 60_000 };

/** The demo's readiness check: its app's or preview source's, or the default when neither is configured now. */
export function readinessFor(ctx: Ports<"specFor">, demo: Demo): { path: string; timeout: number } {
  return ctx.specFor(demo)?.readiness ?? DEFAULT_READINESS;
}

/** The ports a flow uses, by name: each flow takes only these, so its signature says what it touches. */
export type Ports<K extends keyof EngineContext> = Pick<EngineContext, K>;

/** The ports every flow is handed (core/engine-core.ts builds them); never the engine, whose door is for edges. */
export interface EngineContext {
  readonly options: EngineOptions;
  readonly registry: DemoRegistry;
  readonly outage: DockerOutage;
  readonly saver: StateSaver;
  readonly logger: Logger;
  /** Publishing routes and waiting until nginx serves them; the launches gathering for one publish. */
  readonly routing: RouteDesk;
  /** Starts of a stopped demo's container since it was last ready. */
  readonly restarts: RestartAttempts;
  /** Warm pools waiting after a member failed to start. */
  readonly poolPauses: PoolPauses;
  /** Docker's event stream: whether it is followed now, and whether a full listing should run at the next pass. */
  readonly watch: { following: boolean; listingDue: boolean };
  /** Containers created ahead of visitors, not started (demos/prepared.ts). */
  readonly prepared: PreparedStock;
  /** Instance ids whose container is being created right now: Docker may show them half-made. */
  readonly creating: Set<string>;
  /** Open unless the host is below its free-space floor: then nothing new starts. */
  readonly gate: LaunchGate;
  /** An id no live or remembered demo has. */
  newUniqueId(): string;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  readonly closed: boolean;
  /** Shutdown began: nothing is created any more (no replica, pool member, launch or replacement), demos only end. */
  readonly shuttingDown: boolean;
  /** Aborts when the engine closes: every wait of a background flow ends then. */
  readonly stopping: AbortSignal;
  /** Runs a task in the background, logging what it throws; close() waits for it. */
  track(task: Promise<unknown>): void;
  /** Publishes the routes of every live demo; resolves to the generation that holds them. */
  publishRoutes(): Promise<number>;
  /** Forgets the demo, drops its route, then removes its containers; idempotent. */
  end(demo: Demo, status: EndedDemo["status"], reason: string): Promise<void>;
  /** Starts the first in line while there are free slots. */
  promoteQueued(): void;
  /** How the demo's instances run: its app's settings, or its preview source's. */
  specFor(demo: Demo): AppConfig | undefined;
  /** Tells the observers (metrics, the log) what happened. */
  emit(event: EngineEvent): void;
  /** Removes a container, reporting (not throwing) what goes wrong; the next sync retries. */
  removeQuietly(containerId: string): Promise<void>;
}

/**
 * Waits until `done()` holds (checked now and at every transition of a demo), `ms` passed, or the engine closes,
 * whichever comes first. The flows' one way to wait for something another flow does.
 */
export async function waitUntil(ctx: Ports<"registry" | "sleep" | "stopping">, done: () => boolean, ms = Number.POSITIVE_INFINITY): Promise<void> {
  if (done() || ctx.stopping.aborted) return;
  const stop = new AbortController();
  const onStopping = () => stop.abort();
  ctx.stopping.addEventListener("abort", onStopping, { once: true });
  try {
    const waits: Array<Promise<unknown>> = [ctx.registry.transitions.until(() => (done() ? true : undefined), stop.signal)];
    if (Number.isFinite(ms)) waits.push(ctx.sleep(Math.max(0, ms), stop.signal));
    await Promise.race(waits);
  } finally {
    ctx.stopping.removeEventListener("abort", onStopping);
    stop.abort();
  }
}
