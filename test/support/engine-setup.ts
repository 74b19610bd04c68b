// The engine on in-memory edges: the MemoryRuntime, a routes publisher writing to memory, the manual scheduler.
import type { AppConfig } from "../../src/config/schema.js";
import { DemoEngine, type EngineOptions } from "../../src/core/engine.js";
import { MemoryRuntime, type MemoryContainer } from "../../src/core/memory-runtime.js";
import { ManualScheduler } from "../../src/core/scheduler.js";
import { labelsFor, type Demo } from "../../src/core/model.js";
import type { Route } from "../../src/core/routing/routes.js";
import type { EngineState, RouteConfirmation } from "../../src/core/runtime.js";
import { silentLogger } from "../../src/logger.js";
import { RoutesFilePublisher } from "../../src/nginx/route-publisher.js";

export const app: AppConfig = { image: "img", port: 8080, ttl: 60_000, memory: 64 << 20, cpus: 0.5, pids: 64, disk: 1 << 30, capabilities: ["CHOWN", "SETUID", "SETGID"], readOnly: false, tmpfs: {}, nofile: 4096, egress: "internet", env: {}, banner: false, pool: 0, prepared: 0, readiness: { path: "/", timeout: 5_000 } };

/** The host port of a demo's newest instance (the in-memory runtime binds 127.0.0.1:<port>). */
export function portOf(demo: Demo | undefined): number {
  const endpoint = demo?.instances.at(-1)?.endpoint;
  return endpoint ? Number(endpoint.split(":")[1]) : 0;
}

export const ALL_PORTS = () => new Set(Array.from({ length: 10 }, (_, i) => 20000 + i));

export function setup(overrides: Partial<EngineOptions> = {}, state: { answering?: Set<number>; routedHosts?: Map<string, string[]>; initial?: EngineState; confirm?: (generation: number) => Promise<boolean | RouteConfirmation> } = {}) {
  const runtime = new MemoryRuntime({ from: 20000, to: 20009 }, ["img", "img:2", "crash:1"]);
  const scheduler = new ManualScheduler(1_000_000);
  const writes: Route[][] = [];
  const disk = { writable: true };
  const logged: string[] = [];
  const answering = state.answering ?? new Set<number>();
  const saved: EngineState[] = [];
  let ids = 0;
  const routes = new RoutesFilePublisher(
    {
      readCurrent: async () => ({ generation: 7, backends: state.routedHosts ?? new Map() }),
      write: async (list) => {
        if (!disk.writable) throw new Error("EROFS: read-only file system, open 'routes.conf'");
        writes.push(list);
        return true;
      },
    },
    // true and false stand for "served" and "timeout".
    async (generation) => {
      const answer = state.confirm ? await state.confirm(generation) : true;
      return answer === true ? "served" : answer === false ? "timeout" : answer;
    },
    silentLogger,
  );
  const logger = { info: (line: string) => logged.push(`info ${line}`), warn: (line: string) => logged.push(`warn ${line}`), error: (line: string) => logged.push(`error ${line}`) };
  const options: EngineOptions = {
    domain: "demo.localhost",
    namespace: "t",
    apps: { hello: app },
    limits: { maxDemos: 3, perClient: 1, queueLength: 2, launchesPerClient: 3, launchWindow: 600_000 },
    newId: () => `demo${String((ids += 1)).padStart(4, "0")}`,
    runtime,
    // An app answers when its port is in `answering` and its container runs.
    readiness: async (endpoint) => answering.has(Number(endpoint.split(":")[1])) && [...runtime.containers.values()].some((container) => container.endpoint === endpoint && container.state === "running"),
    routes,
    stateStore: { load: async () => state.initial ?? { ended: [], queued: [] }, save: async (snapshot) => void saved.push(structuredClone(snapshot)) },
    scheduler,
    logger,
    drainMs: 1000,
    ...overrides,
  };
  // The publisher's errors go to the same log as the engine's.
  (routes as unknown as { logger: typeof logger }).logger = logger;
  const engine = new DemoEngine(options);
  /** Moves time from timer to timer until every launch, replacement, drain and rewind in flight has ended. */
  const settled = () => scheduler.runUntil(engine.settled());
  return { engine, runtime, scheduler, settled, writes, answering, saved, disk, logged };
}

/** Labels of a container a previous run made. */
export function labelsOf(id: string, options: { expiresAt: number; createdAt?: number; generation?: number; pool?: boolean; image?: string }): Record<string, string> {
  const generation = options.generation ?? 1;
  return {
    ...labelsFor({
      demo: { id, kind: "visitor", app: "hello", host: `${id}.demo.localhost`, createdAt: options.createdAt ?? 999_000, expiresAt: options.expiresAt, namespace: "t", ...(options.pool ? { pool: true } : {}) },
      instance: { id: `${id}-${generation}`, generation, image: options.image ?? "img" },
    }),
  };
}

export function addContainer(runtime: MemoryRuntime, containerId: string, labels: Record<string, string>, state: MemoryContainer["state"], port: number): void {
  runtime.containers.set(containerId, { containerId, labels, state, endpoint: `127.0.0.1:${port}`, exitCode: state === "exited" ? 1 : 0, oomKilled: false });
}

