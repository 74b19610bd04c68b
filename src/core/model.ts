// The demo model and its mapping to and from Docker labels (labels are the source of truth).
export const LABEL_PREFIX = "demo-launcher.";

export type DemoStatus = "queued" | "starting" | "ready" | "failed" | "expired" | "stopped";

/** Where a starting demo is; shown on the starting page. */
export type LaunchStep = "queued" | "creating" | "starting" | "waiting-for-app" | "routing" | "done";

export interface Demo {
  id: string;
  app: string;
  host: string;
  /** Host port on 127.0.0.1; 0 until one is bound. */
  port: number;
  containerId?: string;
  createdAt: number;
  expiresAt: number;
  status: DemoStatus;
  step: LaunchStep;
  /** Why the demo failed or ended, in words a visitor understands. */
  reason?: string;
  /** A hash of the visitor's address, for the per-client limit; never the address itself. */
  client?: string;
  /** For a queued demo: when its visitor last asked about it (a line nobody watches is dropped). */
  lastSeenAt?: number;
  /** A warm pool member nobody has claimed yet: started and routed, waiting for a visitor. */
  pooled?: boolean;
}

export interface DemoLabels {
  id: string;
  app: string;
  host: string;
  port: number;
  createdAt: number;
  expiresAt: number;
  namespace: string;
  client?: string;
  /** Created for the warm pool; its lease (owner, expiry) lives in the state file once claimed. */
  pool?: boolean;
}

export function labelsFor(demo: DemoLabels): Record<string, string> {
  const labels: Record<string, string> = {
    [`${LABEL_PREFIX}id`]: demo.id,
    [`${LABEL_PREFIX}app`]: demo.app,
    [`${LABEL_PREFIX}host`]: demo.host,
    [`${LABEL_PREFIX}port`]: String(demo.port),
    [`${LABEL_PREFIX}created-at`]: new Date(demo.createdAt).toISOString(),
    [`${LABEL_PREFIX}expires-at`]: new Date(demo.expiresAt).toISOString(),
    [`${LABEL_PREFIX}namespace`]: demo.namespace,
  };
  if (demo.client) labels[`${LABEL_PREFIX}client`] = demo.client;
  if (demo.pool) labels[`${LABEL_PREFIX}pool`] = "true";
  return labels;
}

/** Reads labels back; undefined when they are not ours or are damaged (such a container is removed). */
export function parseLabels(labels: Record<string, string | undefined>): DemoLabels | undefined {
  const get = (key: string) => labels[`${LABEL_PREFIX}${key}`];
  const id = get("id");
  const app = get("app");
  const host = get("host");
  const namespace = get("namespace");
  const port = Number(get("port"));
  const createdAt = Date.parse(get("created-at") ?? "");
  const expiresAt = Date.parse(get("expires-at") ?? "");
  if (!id || !app || !host || !namespace) return undefined;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt)) return undefined;
  const client = get("client");
  return { id, app, host, port, createdAt, expiresAt, namespace, ...(client ? { client } : {}), ...(get("pool") === "true" ? { pool: true } : {}) };
}

/** The JSON a client sees for a demo. */
export interface DemoView {
  id: string;
  app: string;
  host: string;
  url: string;
  status: DemoStatus;
  step: LaunchStep;
  createdAt: string;
  expiresAt: string;
  secondsLeft: number;
  reason?: string;
  /** For a queued demo: its place in line (1 = next) and the estimated wait. */
  queue?: { position: number; estimatedWaitSeconds: number };
}

export function viewOf(demo: Demo, url: string, now: number, queue?: DemoView["queue"]): DemoView {
  return {
    id: demo.id,
    app: demo.app,
    host: demo.host,
    url,
    status: demo.status,
    step: demo.step,
    createdAt: new Date(demo.createdAt).toISOString(),
    expiresAt: new Date(demo.expiresAt).toISOString(),
    secondsLeft: Math.max(0, Math.round((demo.expiresAt - now) / 1000)),
    ...(demo.reason ? { reason: demo.reason } : {}),
    ...(queue ? { queue } : {}),
  };
}
