// Every JSON view of the HTTP API, as one set of types: the server makes them, and the CLI, the tests, the fault
// suite and the benchmark read them (no copy of a view's shape anywhere else).
import type { DemoKind, DemoStatus, InstanceHealth, LaunchStep, ReplacementState } from "../core/model.js";
import type { Build } from "../core/builds/build-queue.js";
import type { JobStatus } from "../core/state/jobs.js";
import type { Delivery } from "../forges/deliveries.js";
import type { ResetState } from "../core/shared/shared.js";

/** The JSON a client sees for a demo. */
export interface DemoView {
  id: string;
  kind: DemoKind;
  app: string;
  host: string;
  url: string;
  status: DemoStatus;
  step: LaunchStep;
  createdAt: string;
  /** When its time box ends; a shared demo has none (it lives as long as the config names it). */
  expiresAt?: string;
  secondsLeft?: number;
  /** A shared demo's next scheduled reset, when it has a schedule. */
  nextResetAt?: string;
  reason?: string;
  /** Something the visitor should know (their demo moved and started fresh). */
  notice?: string;
  /** An environment's further routed services (routes:), each at a host of its own. */
  routes?: Array<{ name: string; url: string }>;
  /** While it starts: what it waits for beyond its step (an image being pulled, and how far). */
  progress?: string;
  /** For a queued demo: its place in line (1 = next) and the estimated wait. */
  queue?: { position: number; estimatedWaitSeconds: number };
  instances?: Array<{ id: string; generation: number; image: string; health: InstanceHealth; endpoint?: string }>;
  replacement?: { status: ReplacementState["status"]; image: string; startedAt: string; finishedAt?: string; reason?: string };
}

/** A demo that ended (`GET /api/demos/:id` after its end, for a while). */
export interface EndedDemoView {
  id: string;
  app: string;
  host: string;
  url: string;
  status: string;
  reason: string;
  endedAt: string;
}

/** `GET /api/demos`. */
export interface DemoList {
  demos: DemoView[];
}

/** A preview build (`/api/builds`): the build with its times as ISO 8601, its log's path, and `url`, the host it serves. */
export type BuildView = Omit<Build, "createdAt" | "startedAt" | "finishedAt" | "link"> & {
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  log: string;
  url?: string;
};

/** A rewind or snapshot job (`/api/jobs/:id`). */
export interface JobView {
  id: string;
  kind: "rewind" | "snapshot";
  demo: string;
  app: string;
  source: string;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  reason?: string;
  attempts: number;
}

/** A shared demo's reset, as the operator sees it. */
export interface ResetView {
  status: ResetState["status"];
  trigger: ResetState["trigger"];
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  reason?: string;
}

/** A shared demo for the operator (`/api/shared`): its replicas, schedule and resets. */
export interface SharedView {
  name: string;
  app: string;
  host?: string;
  url?: string;
  status: DemoStatus;
  replicas: number;
  instances: Array<{ id: string; generation: number; health: InstanceHealth; endpoint?: string }>;
  schedule?: string;
  timeZone?: string;
  nextResetAt?: string;
  lastResetAt?: string;
  lastReset?: ResetView;
}

/** A GitHub webhook delivery (`/api/deliveries`), its time as ISO 8601. */
export type DeliveryView = Omit<Delivery, "receivedAt"> & { receivedAt: string };
