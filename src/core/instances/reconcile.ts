// Reconciliation as a list of actions: what Docker runs against what we know, per container; pure, takes `now`.
import { parseLabels, type Demo, type Instance, type InstanceLabels } from "../model.js";
import type { EndedDemo, Lease, RuntimeContainer } from "../runtime.js";

export type ReconcileAction =
  | { kind: "remove"; containerId: string; why: string }
  | { kind: "record-ended"; entry: EndedDemo }
  /**
   * A demo we did not know: `await` is the instance to wait for (a launch or a replacement to finish); `since` is
   * when its readiness window opened (absent: at the demo's launch).
   */
  | { kind: "adopt"; demo: Demo; await?: { instanceId: string; as: "launch" | "replacement"; since?: number; start?: true } }
  /** A created-ahead container nobody claimed, never started: back into the stock. */
  | { kind: "stock"; demo: Demo }
  /** A live demo's serving container stopped: started again if it was stopped from outside, else the demo ends. */
  | { kind: "check-stopped"; demoId: string; instanceId: string }
  /** A live demo's container is missing from the listing: only Docker saying "no such container" proves it gone. */
  | { kind: "check-missing"; demoId: string; instanceId: string }
  /** An older instance whose drain a restart interrupted: nginx's old workers may still send it requests. */
  | { kind: "finish-drain"; demoId: string; instanceId: string }
  /** A serving instance runs elsewhere now (a cluster started it again on another node): its route follows. */
  | { kind: "moved"; demoId: string; instanceId: string; endpoint: string };

export interface ReconcileInput {
  containers: readonly RuntimeContainer[];
  liveDemos: readonly Demo[];
  ended: (id: string) => EndedDemo | undefined;
  lease: (id: string) => Lease | undefined;
  /** Instance ids whose container is being created now. */
  creating: ReadonlySet<string>;
  /** Endpoints nginx was told to route each host to (at start, from the routes file; empty later). */
  published: ReadonlyMap<string, readonly string[]>;
  now: number;
  /** Previews put to sleep on purpose: their stopped containers are kept. */
  asleep: (id: string) => boolean;
  /** Around a Docker outage a daemon may list nothing at all: a missing container proves nothing. */
  aroundOutage: boolean;
}

interface Found {
  container: RuntimeContainer;
  labels: InstanceLabels;
}

export function planReconcile(input: ReconcileInput): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  const byDemo = new Map<string, Found[]>();
  for (const container of input.containers) {
    const labels = parseLabels(container.labels);
    if (!labels) {
      actions.push({ kind: "remove", containerId: container.containerId, why: "its demo-launcher labels are damaged" });
      continue;
    }
    if (input.creating.has(labels.instance.id)) continue;
    const group = byDemo.get(labels.demo.id) ?? [];
    group.push({ container, labels });
    byDemo.set(labels.demo.id, group);
  }
  const live = new Map(input.liveDemos.map((demo) => [demo.id, demo]));
  for (const [id, found] of byDemo) {
    const demo = live.get(id);
    if (demo) planLive(demo, found, actions);
    else planUnknown(found, input, actions);
  }
  if (!input.aroundOutage) {
    const listed = new Set(input.containers.map((container) => container.containerId));
    for (const demo of input.liveDemos) {
      for (const instance of demo.instances) {
        if (!instance.containerId || listed.has(instance.containerId) || instance.health === "draining" || input.creating.has(instance.id)) continue;
        actions.push({ kind: "check-missing", demoId: demo.id, instanceId: instance.id });
      }
    }
  }
  return actions;
}

/** Containers of a demo we track: strays go, a stopped serving container is checked. */
function planLive(demo: Demo, found: Found[], actions: ReconcileAction[]): void {
  for (const { container, labels } of found) {
    const instance = demo.instances.find((candidate) => candidate.id === labels.instance.id);
    if (!instance) {
      // Not one of its instances: a replacement the last run gave up on, or a drain it never finished.
      actions.push({ kind: "remove", containerId: container.containerId, why: `it is not an instance of demo ${demo.id}` });
      continue;
    }
    if (container.state === "running" && container.endpoint && instance.endpoint && container.endpoint !== instance.endpoint && instance.health === "healthy") {
      actions.push({ kind: "moved", demoId: demo.id, instanceId: instance.id, endpoint: container.endpoint });
      continue;
    }
    if (container.state !== "exited" && container.state !== "dead") continue;
    // A starting instance's own readiness loop reports its crash with the logs; a draining one is on its way out.
    if (instance.health !== "healthy" || demo.status !== "ready") continue;
    actions.push({ kind: "check-stopped", demoId: demo.id, instanceId: instance.id });
  }
}

/** What a visitor's page says about a demo a cluster started again while no controller ran. */
export const STARTED_AGAIN_NOTICE = "Your demo was started again on the cluster while the launcher restarted: what you did before is gone.";

/** Containers of a demo we do not track: adopt what serves, finish what was under way, remove the rest. */
function planUnknown(found: Found[], input: ReconcileInput, actions: ReconcileAction[]): void {
  const first = found[0]!.labels.demo;
  const removeAll = (why: string) => found.forEach(({ container }) => actions.push({ kind: "remove", containerId: container.containerId, why }));
  // Labels cannot change after creation: a claimed pool container's owner and an extended expiry are its lease.
  const lease = input.lease(first.id);
  const expiresAt = lease?.expiresAt ?? first.expiresAt;
  const owner = lease ? lease.client : first.owner;
  // A created-ahead container: stock until a lease names its visitor, and never started by an adoption.
  if (first.prepared && !lease) return planStock(found, input, actions);
  const endedBefore = input.ended(first.id);
  const record = (status: EndedDemo["status"], reason: string) =>
    actions.push({ kind: "record-ended", entry: { id: first.id, app: first.app, status, reason, endedAt: endedBefore?.endedAt ?? input.now } });
  if (endedBefore) {
    record(endedBefore.status, endedBefore.reason);
    return removeAll("its demo has ended");
  }
  if (expiresAt <= input.now) {
    record("expired", "its time box ended");
    return removeAll("its time box ended");
  }
  if (input.asleep(first.id) && found.every(({ container }) => container.state === "exited")) return adoptAsleep(found, expiresAt, actions);
  const [only] = found;
  if (first.prepared && found.length === 1 && only!.container.state === "created" && only!.container.endpoint) {
    // Claimed (its visitor has the URL) but not started when the last run stopped: started now.
    const { labels, container } = only!;
    const instance: Instance = { id: labels.instance.id, generation: labels.instance.generation, image: labels.instance.image, containerId: container.containerId, endpoint: container.endpoint!, health: "starting" };
    const demo: Demo = { id: first.id, kind: "visitor", app: first.app, host: first.host, createdAt: first.createdAt, expiresAt, ...(owner ? { owner } : {}), status: "starting", step: "starting", routeEarly: true, lastGeneration: instance.generation, instances: [instance] };
    return void actions.push({ kind: "adopt", demo, await: { instanceId: instance.id, as: "launch", start: true } });
  }
  const running: Found[] = [];
  for (const entry of found) {
    if (entry.container.state === "created") actions.push({ kind: "remove", containerId: entry.container.containerId, why: "it was created but never started" });
    else if (entry.container.state === "exited" || entry.container.state === "dead") actions.push({ kind: "remove", containerId: entry.container.containerId, why: "it stopped" });
    else running.push(entry);
  }
  if (running.length === 0) {
    const interrupted = found.some(({ container }) => container.state === "created");
    record("failed", interrupted ? "its launch was interrupted; please launch again" : "the app stopped unexpectedly");
    return;
  }
  running.sort((a, b) => a.labels.instance.generation - b.labels.instance.generation);
  const routed = new Set(input.published.get(first.host) ?? []);
  const served = running.filter(({ container }) => container.endpoint !== undefined && routed.has(container.endpoint));
  const newest = running.at(-1)!;
  const newestServed = served.at(-1);
  // Served instances stay; a newer one than every served one is a replacement to finish; anything else was draining.
  const keep = new Set<Found>(served);
  // A shared demo's unserved replicas (a reset or top-up the restart interrupted) go: its own pass starts them again.
  const shared = first.kind === "shared" && newestServed !== undefined;
  const waitFor = !newestServed ? newest : !shared && newest.labels.instance.generation > newestServed.labels.instance.generation ? newest : undefined;
  // Its host was routed before the restart, yet nothing runs where nginx was told: it was serving, and a cluster is
  // starting it again (moved off a drained or dead node). Its launch's readiness window closed long ago; this start
  // gets a window of its own, as a move seen while running does.
  const startedAgain = !newestServed && routed.size > 0;
  if (waitFor) keep.add(waitFor);
  const instances: Instance[] = [];
  const drains: ReconcileAction[] = [];
  for (const entry of running) {
    const draining = !keep.has(entry);
    if (draining) drains.push({ kind: "finish-drain", demoId: first.id, instanceId: entry.labels.instance.id });
    instances.push({
      id: entry.labels.instance.id,
      generation: entry.labels.instance.generation,
      image: entry.labels.instance.image,
      containerId: entry.container.containerId,
      ...(entry.container.endpoint ? { endpoint: entry.container.endpoint } : {}),
      ...(entry.container.routes ? { routes: entry.container.routes } : {}),
      health: draining ? "draining" : served.includes(entry) ? "healthy" : "starting",
    });
  }
  const base = newestServed?.labels.demo ?? newest.labels.demo;
  const demo: Demo = {
    id: base.id,
    kind: base.kind,
    app: base.app,
    host: base.host,
    createdAt: base.createdAt,
    expiresAt,
    ...(lease?.hardEndAt !== undefined ? { hardEndAt: lease.hardEndAt } : {}),
    ...(owner ? { owner } : {}),
    ...(base.preview ? { preview: base.preview } : {}),
    ...(base.envOverrides ? { envOverrides: base.envOverrides } : {}),
    ...(base.pool && !lease ? { pooled: true } : {}),
    // A demo whose route was live before we restarted is served again at once, without a new check.
    status: newestServed ? "ready" : "starting",
    step: newestServed ? "done" : "waiting-for-app",
    instances,
    // Listed without an endpoint, no task of it runs: whatever its visitor did in it is gone.
    ...(startedAgain && base.kind === "visitor" && !newest.container.endpoint ? { notice: STARTED_AGAIN_NOTICE } : {}),
  };
  actions.push({ kind: "adopt", demo, ...(waitFor ? { await: { instanceId: waitFor.labels.instance.id, as: newestServed ? "replacement" : "launch", ...(startedAgain ? { since: input.now } : {}) } } : {}) });
  // After the adoption, so the drain finds its demo.
  actions.push(...drains);
}

/** An unclaimed created-ahead container: kept while it waits (created, not expired), removed otherwise. */
function planStock(found: Found[], input: ReconcileInput, actions: ReconcileAction[]): void {
  const [only] = found;
  if (found.length !== 1 || only!.container.state !== "created" || !only!.container.endpoint || only!.labels.demo.expiresAt <= input.now) {
    for (const { container } of found) actions.push({ kind: "remove", containerId: container.containerId, why: "a container created ahead that no longer waits (started, expired or damaged)" });
    return;
  }
  const { labels, container } = only!;
  const instance: Instance = { id: labels.instance.id, generation: labels.instance.generation, image: labels.instance.image, containerId: container.containerId, endpoint: container.endpoint!, health: "starting" };
  actions.push({ kind: "stock", demo: { id: labels.demo.id, kind: "visitor", app: labels.demo.app, host: labels.demo.host, createdAt: labels.demo.createdAt, expiresAt: labels.demo.expiresAt, status: "starting", step: "creating", prepared: true, routeEarly: true, instances: [instance] } });
}

/** A preview asleep before the restart: its newest stopped container is kept to be woken; older ones go. */
function adoptAsleep(found: Found[], expiresAt: number, actions: ReconcileAction[]): void {
  const sorted = [...found].sort((a, b) => a.labels.instance.generation - b.labels.instance.generation);
  const newest = sorted.at(-1)!;
  for (const older of sorted.slice(0, -1)) actions.push({ kind: "remove", containerId: older.container.containerId, why: "an asleep preview keeps only its newest instance" });
  const base = newest.labels.demo;
  const instance: Instance = {
    id: newest.labels.instance.id,
    generation: newest.labels.instance.generation,
    image: newest.labels.instance.image,
    containerId: newest.container.containerId,
    ...(newest.container.endpoint ? { endpoint: newest.container.endpoint } : {}),
    health: "healthy",
  };
  actions.push({ kind: "adopt", demo: { id: base.id, kind: base.kind, app: base.app, host: base.host, createdAt: base.createdAt, expiresAt, status: "asleep", step: "done", instances: [instance] } });
}
