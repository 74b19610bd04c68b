// The model: a demo (a host and a lease) served by one or more instances (containers), and their labels.
import type { DemoView } from "../api/views.js";
import { furtherHost } from "./routing/naming.js";
export const LABEL_PREFIX = "demo-launcher.";

/** visitor: one per visitor, time-boxed. preview: built from git. shared: long-lived, reset to a known state. */
export type DemoKind = "visitor" | "preview" | "shared";
export const DEMO_KINDS: readonly DemoKind[] = ["visitor", "preview", "shared"];

/** asleep: a preview nobody asked for in a while; its container is stopped (not removed) until the next request. */
export type DemoStatus = "queued" | "starting" | "ready" | "asleep" | "failed" | "expired" | "stopped";

/** Where a starting demo is; shown on the starting page. */
export type LaunchStep = "queued" | "creating" | "starting" | "waiting-for-app" | "seeding" | "routing" | "done";

/**
 * starting: created, not yet answering. healthy: answers and is routed. draining: unrouted, finishing the
 * requests nginx's old workers still send it, then removed.
 */
export type InstanceHealth = "starting" | "healthy" | "draining";

export interface Instance {
  /** Unique per container; the `demo-launcher.instance` label. */
  id: string;
  /** 1 for a demo's first instance, one more for each replacement. */
  generation: number;
  image: string;
  containerId?: string;
  /** host:port where nginx and the readiness probe reach the app; the runtime chooses it. */
  endpoint?: string;
  /** An environment's further routed services (routes:): name → host:port, each served at `<name>-<demo host>`. */
  routes?: Record<string, string>;
  health: InstanceHealth;
}

/** How the last replacement of a demo went (shown in GET /api/demos/:id). */
export interface ReplacementState {
  status: "running" | "succeeded" | "failed";
  image: string;
  startedAt: number;
  finishedAt?: number;
  reason?: string;
}

export interface Demo {
  id: string;
  kind: DemoKind;
  app: string;
  host: string;
  /** The lease: when it started and when it ends (a claimed pool member or an extension moves it). */
  createdAt: number;
  expiresAt: number;
  /** A preview's hard end (its source's `ttl` since it was first served): its lease never moves past it. */
  hardEndAt?: number;
  status: DemoStatus;
  step: LaunchStep;
  /** Why the demo failed or ended, in words a visitor understands. */
  reason?: string;
  /** A hash of the visitor's address, for the per-visitor limit; never the address itself. */
  owner?: string;
  /** When it was last asked for: a queued demo's visitor polling (a line nobody watches is dropped), a preview's requests (idle stop). */
  lastSeenAt?: number;
  /** A warm pool member nobody has claimed yet: started and routed, waiting for a visitor. */
  pooled?: boolean;
  /** A created-ahead container nobody has claimed yet (demos/prepared.ts): created, routed behind the gate, not started. */
  prepared?: boolean;
  instances: Instance[];
  replacement?: ReplacementState;
  /**
   * Routed while its first instance starts, behind the starting gate (routes.ts): nginx's reload overlaps the app's
   * start-up instead of following it; until the app answers, its requests get the controller's starting page.
   */
  routeEarly?: boolean;
  /** Labels its next instances carry besides ours (a pull request's `demo-launcher.repo`, `.pr`, `.commit`). */
  extraLabels?: Record<string, string>;
  /** A preview built from a fork nobody vouched for: it runs without the configured env (secrets). */
  withoutEnv?: boolean;
  /** A preview's own environment variables, set through the API over its source's env (no rebuild). */
  envOverrides?: Record<string, string>;
  /** The HTTP request that launched it: in the log lines and on its containers, from the click to the route. */
  requestId?: string;
  /** The highest instance generation this demo has had (instance ids are never reused). */
  lastGeneration?: number;
  /** A preview's newer image that waits until the demo is ready and no replacement runs. */
  wantedImage?: string;
  /** Something the visitor should know (their demo moved to another node and started fresh): on its page and banner. */
  notice?: string;
  /** What a start is doing beyond its step, for its page (an image being pulled: how far); not saved. */
  progress?: string;
  /** A fresh preview whose seed is not in yet: kept in the state file, so a restart mid-launch seeds it still. */
  unseeded?: boolean;
  /** A preview's branch, commit and pull request, as its newest build gave them (its containers' DEMO_BRANCH, …). */
  preview?: import("./demos/demo-env.js").PreviewFacts;
}

export function instanceIdFor(demoId: string, generation: number): string {
  return `${demoId}-${generation}`;
}

/** The instances nginx routes the demo's host to. */
export function healthyInstances(demo: Demo): Instance[] {
  return demo.instances.filter((instance) => instance.health === "healthy" && instance.endpoint);
}

/** The instance a launch is starting (the demo's only instance until it is ready). */
export function newestInstance(demo: Demo): Instance | undefined {
  let newest: Instance | undefined;
  for (const instance of demo.instances) if (!newest || instance.generation > newest.generation) newest = instance;
  return newest;
}

/** What one container's labels say about its demo and itself. */
export interface InstanceLabels {
  demo: { id: string; kind: DemoKind; app: string; host: string; createdAt: number; expiresAt: number; namespace: string; owner?: string; pool?: boolean; prepared?: boolean; requestId?: string; preview?: import("./demos/demo-env.js").PreviewFacts; envOverrides?: Record<string, string> };
  instance: { id: string; generation: number; image: string };
}

/**
 * The labels' format: a release that changes what they mean raises it and reads every earlier one (containers
 * without the label are format 1, written before it existed). A container of a newer format is left alone.
 */
export const LABELS_FORMAT = 1;

/** The format a container's labels say they are in; NaN when the label is damaged. */
export function labelsFormatOf(labels: Record<string, string | undefined>): number {
  const text = labels[`${LABEL_PREFIX}format`];
  return text === undefined ? 1 : /^[1-9][0-9]*$/.test(text) ? Number(text) : Number.NaN;
}

export function labelsFor(labels: InstanceLabels): Record<string, string> {
  const { demo, instance } = labels;
  const result: Record<string, string> = {
    [`${LABEL_PREFIX}id`]: demo.id,
    [`${LABEL_PREFIX}kind`]: demo.kind,
    [`${LABEL_PREFIX}app`]: demo.app,
    [`${LABEL_PREFIX}host`]: demo.host,
    [`${LABEL_PREFIX}instance`]: instance.id,
    [`${LABEL_PREFIX}generation`]: String(instance.generation),
    [`${LABEL_PREFIX}image`]: instance.image,
    [`${LABEL_PREFIX}created-at`]: new Date(demo.createdAt).toISOString(),
    [`${LABEL_PREFIX}expires-at`]: new Date(demo.expiresAt).toISOString(),
    [`${LABEL_PREFIX}namespace`]: demo.namespace,
    [`${LABEL_PREFIX}format`]: String(LABELS_FORMAT),
  };
  // The label keeps its first name: containers made by earlier versions are adopted with it.
  if (demo.owner) result[`${LABEL_PREFIX}client`] = demo.owner;
  if (demo.pool) result[`${LABEL_PREFIX}pool`] = "true";
  // Created ahead of any visitor: until a lease names its visitor, it is stock, never started by an adoption.
  if (demo.prepared) result[`${LABEL_PREFIX}prepared`] = "true";
  if (demo.requestId) result[`${LABEL_PREFIX}request-id`] = demo.requestId;
  // A preview's branch, commit and pull request: its DEMO_* values (and the commit's files) after a restart too.
  for (const [key, value] of Object.entries(demo.preview ?? {})) if (value) result[`${LABEL_PREFIX}preview-${key}`] = value;
  if (demo.envOverrides && Object.keys(demo.envOverrides).length > 0) result[`${LABEL_PREFIX}env-overrides`] = JSON.stringify(demo.envOverrides);
  return result;
}

/** Reads labels back; undefined when they are not ours or are damaged (such a container is removed). */
export function parseLabels(labels: Record<string, string | undefined>): InstanceLabels | undefined {
  const get = (key: string) => labels[`${LABEL_PREFIX}${key}`];
  const id = get("id");
  const app = get("app");
  const host = get("host");
  const namespace = get("namespace");
  const createdAt = Date.parse(get("created-at") ?? "");
  const expiresAt = Date.parse(get("expires-at") ?? "");
  if (!id || !app || !host || !namespace) return undefined;
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt)) return undefined;
  // Containers from before instances existed are their demo's first and only instance.
  const kindLabel = get("kind") ?? "visitor";
  if (!DEMO_KINDS.includes(kindLabel as DemoKind)) return undefined;
  const generation = Number(get("generation") ?? 1);
  if (!Number.isInteger(generation) || generation < 1) return undefined;
  const owner = get("client");
  const preview = Object.fromEntries((["branch", "commit", "pr"] as const).flatMap((key) => (get(`preview-${key}`) ? [[key, get(`preview-${key}`)!]] : [])));
  const envOverrides = envOverridesOf(get("env-overrides"));
  return {
    demo: { id, kind: kindLabel as DemoKind, app, host, createdAt, expiresAt, namespace, ...(owner ? { owner } : {}), ...(get("pool") === "true" ? { pool: true } : {}), ...(get("prepared") === "true" ? { prepared: true } : {}), ...(Object.keys(preview).length > 0 ? { preview } : {}), ...(envOverrides ? { envOverrides } : {}) },
    instance: { id: get("instance") ?? instanceIdFor(id, generation), generation, image: get("image") ?? "" },
  };
}


/** The names of an environment's further routed services, as its instances know them. */
function furtherNames(demo: Demo): string[] {
  return [...new Set(demo.instances.flatMap((instance) => Object.keys(instance.routes ?? {})))].sort();
}

/** A label's JSON map of variables; undefined when absent or damaged (the overrides are then dropped, not guessed). */
function envOverridesOf(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === "string")) return undefined;
    return parsed as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** The JSON a client sees for a demo (src/api/views.ts says its shape). */
export type { DemoView };

export function viewOf(demo: Demo, url: string, now: number, queue?: DemoView["queue"], options: { withInstances?: boolean } = {}): DemoView {
  const replacement = demo.replacement;
  const further = furtherNames(demo);
  return {
    id: demo.id,
    kind: demo.kind,
    app: demo.app,
    host: demo.host,
    url,
    status: demo.status,
    step: demo.step,
    createdAt: new Date(demo.createdAt).toISOString(),
    ...(demo.kind === "shared" ? {} : { expiresAt: new Date(demo.expiresAt).toISOString(), secondsLeft: Math.max(0, Math.round((demo.expiresAt - now) / 1000)) }),
    ...(demo.reason ? { reason: demo.reason } : {}),
    ...(demo.notice ? { notice: demo.notice } : {}),
    ...(demo.progress && demo.status === "starting" ? { progress: demo.progress } : {}),
    // An environment's further routed services, each on a host of its own.
    ...(further.length > 0 ? { routes: further.map((name) => ({ name, url: url.replace(demo.host, furtherHost(name, demo.host)) })) } : {}),
    ...(queue ? { queue } : {}),
    // Endpoints say where containers listen: for the operator, not for visitors.
    ...(options.withInstances ? { instances: demo.instances.map((instance) => ({ id: instance.id, generation: instance.generation, image: instance.image, health: instance.health, ...(instance.endpoint ? { endpoint: instance.endpoint } : {}) })) } : {}),
    ...(replacement
      ? { replacement: { status: replacement.status, image: replacement.image, startedAt: new Date(replacement.startedAt).toISOString(), ...(replacement.finishedAt ? { finishedAt: new Date(replacement.finishedAt).toISOString() } : {}), ...(replacement.reason ? { reason: replacement.reason } : {}) } }
      : {}),
  };
}
