// What the edges may ask of the core, by name: the HTTP layer, the metrics, the builds and the disk guard depend on
// these services, not on the engine class (a test or another front end can hand them anything that answers the same).
import type { AppSpec } from "./app-spec.js";
import type { LaunchGate } from "./demos/disk.js";
import type { Job } from "./state/jobs.js";
import type { Demo } from "./model.js";
import type { PreviewOps } from "./previews/previews.js";
import type { EndedDemo } from "./runtime.js";
import type { Scheduler } from "./scheduler.js";
import type { SharedDemos } from "./shared/shared.js";
import type { LaunchResult } from "./demos/visitor-launch.js";

/** Reading the demos and the engine's surroundings: what every status page, list and scrape asks. */
export interface DemoQueries {
  now(): number;
  get(id: string): Demo | undefined;
  getEnded(id: string): EndedDemo | undefined;
  /** Visitors' demos, previews and shared demos (not warm-pool members), oldest first. */
  list(): Demo[];
  /** How the demo's instances run: its app's settings, or its preview source's. */
  specFor(demo: Demo): AppSpec | undefined;
  poolStatus(): Record<string, { ready: number; starting: number }>;
  preparedStatus(): Record<string, { ready: number; creating: number }>;
  dockerStatus(): { state: "ok" | "unreachable"; since?: string };
  currentGeneration(): number;
}

/** Demos for the HTTP API and the console: launch, read, act on them, and the engine's clock. */
export interface DemoService extends DemoQueries {
  launch(appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult>;
  queueInfo(id: string): { position: number; estimatedWaitSeconds: number } | undefined;
  touch(id: string): void;
  stop(id: string): Promise<boolean>;
  /** Ends a live demo with these words; false when it was not live. */
  endDemo(id: string, status: EndedDemo["status"], reason: string): Promise<boolean>;
  extend(id: string, byMs: number): Promise<Demo>;
  replace(id: string, image?: string): Promise<Demo>;
  rewind(id: string, source?: string): Promise<{ job: Job; created: boolean }>;
  snapshot(id: string, source: string): Promise<Job>;
  job(id: string): Job | undefined;
  logs(id: string, lines: number, service?: string): Promise<string>;
  /** The services of a demo's environment as they run now ([] for a single container). */
  services(id: string): Promise<import("./runtime.js").ServiceStatus[]>;
  /** Previews (wake, remove) and shared demos (their resets) as the engine keeps them. */
  readonly previews: PreviewOps;
  readonly shared: SharedDemos;
  /** Removes the warm pools' and the created-ahead containers; none is made again until the controller restarts. Answers how many went. */
  removeSpares(): Promise<number>;
  /** Resolves true once `predicate` holds for the demo, checked now and at each of its transitions; false when `signal` aborts first. */
  until(id: string, predicate: (demo: Demo | undefined) => boolean, signal?: AbortSignal): Promise<boolean>;
  /** The scheduler the engine runs on, for the edge's own waits (a followed log, the console's live view). */
  readonly options: { readonly scheduler: Scheduler };
}

/** What the metrics read at each scrape: the demos, the warm pools, Docker, the routes generation, the clock. */
export type MetricsSource = Pick<DemoQueries, "now" | "list" | "poolStatus" | "preparedStatus" | "dockerStatus" | "currentGeneration">;

/** What the builds ask of the core: serve a built image at its preview's host, read previews, end one. */
export interface PreviewService extends Pick<DemoQueries, "get" | "list"> {
  readonly previews: Pick<PreviewOps, "serveBuilt" | "sawRequests" | "wake" | "sleep" | "startFresh">;
  /** Gives a live demo more time (a comment's `extend`). */
  extend(id: string, byMs: number): Promise<Demo>;
  /** Ends a live demo with these words; false when it was not live. */
  endDemo(id: string, status: EndedDemo["status"], reason: string): Promise<boolean>;
  stop(id: string): Promise<boolean>;
}

/** What the disk guard asks: the launch gate it closes below the floor, the demos it measures, and its two remedies. */
export interface DiskService extends Pick<DemoQueries, "list" | "specFor"> {
  readonly gate: LaunchGate;
  endDemo(id: string, status: EndedDemo["status"], reason: string): Promise<boolean>;
  replace(id: string, image?: string): Promise<Demo>;
}
