// Benchmark section: controller memory per live demo at 1,000, 5,000 and 10,000 demos (engine, HTTP server, real
// route rendering, real nginx and watcher; the container runtime is the in-memory fake, so Docker is not measured),
// and the idle controller beside a bare Node process with the same packages loaded.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { request, startStack, waitFor, type Stack } from "../test/support/stack.js";
import { round } from "./measure.js";

export interface MemoryResults {
  runtime: "in-memory fake";
  bareRssMb: number;
  idleRssMb: number;
  idleHeapMb: number;
  points: Array<{ demos: number; rssMb: number; heapMb: number; perDemoKb: number; heapPerDemoKb: number; launchSeconds: number }>;
  /**
   * What one more demo costs: RSS growth from the first count to the last, per demo added. The growth over idle
   * at the first count also holds one-time costs (V8's young generation grows to its working size once busy).
   */
  marginalPerDemoKb: number;
}

const CHILD = path.join(import.meta.dirname, "memory-child.mjs");

interface Memory {
  rssKb: number;
  heapUsedKb: number;
  /** What V8 holds for its heap, used or not: most of the RSS beyond heapUsed. */
  heapTotalKb: number;
  externalKb: number;
}

interface MeasuredProcess {
  child: ChildProcess;
  url?: string;
  measure(): Promise<Memory>;
  /** Ends it the graceful way (so a profile asked for with BENCH_PROFILE gets written). */
  stop(): Promise<void>;
}

function startChild(args: string[]): Promise<MeasuredProcess> {
  // BENCH_PROFILE=<dir>: a CPU profile of each measured process (what a launch costs at scale); BENCH_NODE_FLAGS:
  // V8 flags to compare (--max-semi-space-size=1 took idle RSS from 104 to 92 MB, at some CPU per launch).
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const flags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
  const child = fork(CHILD, args, { execArgv: ["--expose-gc", ...profile, ...flags], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const measure = () =>
    new Promise<Memory>((resolve) => {
      const onMessage = (message: { memory?: Memory }) => {
        if (!message.memory) return;
        child.off("message", onMessage);
        resolve(message.memory);
      };
      child.on("message", onMessage);
      child.send("measure");
    });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.send("stop");
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the measured process exited with ${code}`)));
    child.once("message", (message: { ready?: boolean; url?: string }) => resolve({ child, ...(message.url ? { url: message.url } : {}), measure, stop }));
  });
}

export async function memoryBench(counts: number[], log: (line: string) => void): Promise<MemoryResults> {
  const max = Math.max(...counts);
  const stack: Stack = await startStack({
    controller: "none",
    appsYaml: "  held:\n    image: demo-launcher/held:1\n    port: 8080\n    ttl: 4h\n    memory: 32m\n    readiness: { path: /, timeout: 60s }",
    limitsYaml: `limits: { maxDemos: ${max + 10}, perClient: ${max + 10}, launchesPerClient: ${max * 2}, queueLength: 0 }`,
  });
  const bare = await startChild(["--bare"]);
  const bareMemory = await bare.measure();
  await bare.stop();
  const controller = await startChild([stack.configFile]);
  try {
    const port = Number(new URL(controller.url!).port);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = await controller.measure();
    log(`memory: bare node with the packages ${round(bareMemory.rssKb / 1024)} MB, idle controller ${round(idle.rssKb / 1024)} MB (heap ${round(idle.heapUsedKb / 1024)} MB used of ${round(idle.heapTotalKb / 1024)} MB)`);
    const points: MemoryResults["points"] = [];
    let launched = 0;
    for (const count of counts) {
      const started = performance.now();
      while (launched < count) {
        const batch = Math.min(50, count - launched);
        const answers = await Promise.all(Array.from({ length: batch }, () => request(port, { method: "POST", path: "/api/demos", body: JSON.stringify({ app: "held" }), headers: { "content-type": "application/json" }, timeoutMs: 60_000 })));
        const refused = answers.find((answer) => answer.status !== 201);
        if (refused) throw new Error(`launch ${launched} answered ${refused.status}: ${refused.body.slice(0, 300)}`);
        launched += batch;
      }
      const status = async () => JSON.parse((await request(port, { path: "/api/status" })).body) as { demos: { total: number; ready: number }; routesGeneration: number };
      await waitFor(`${count} demos to be ready`, async () => (await status()).demos.ready === count, 300_000, 500);
      // Until nginx serves the file with every demo: the renderer's and the watcher's work is over.
      const generation = (await status()).routesGeneration;
      await waitFor("nginx to apply the routes", async () => (stack.watcher.currentStatus().appliedGeneration ?? 0) >= generation, 120_000, 200);
      const launchSeconds = (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const memory = await controller.measure();
      const point = {
        demos: count,
        rssMb: round(memory.rssKb / 1024),
        heapMb: round(memory.heapUsedKb / 1024),
        perDemoKb: round((memory.rssKb - idle.rssKb) / count, 1),
        heapPerDemoKb: round((memory.heapUsedKb - idle.heapUsedKb) / count, 1),
        launchSeconds: round(launchSeconds, 1),
      };
      points.push(point);
      log(`memory: ${JSON.stringify(point)} (V8 holds ${round(memory.heapTotalKb / 1024)} MB for its heap, external ${round(memory.externalKb / 1024)} MB)`);
    }
    const first = points[0]!;
    const last = points.at(-1)!;
    const marginalPerDemoKb = last === first ? first.perDemoKb : round(((last.rssMb - first.rssMb) * 1024) / (last.demos - first.demos), 1);
    log(`memory: ${marginalPerDemoKb} KB per demo from ${first.demos} to ${last.demos} demos`);
    return { runtime: "in-memory fake", bareRssMb: round(bareMemory.rssKb / 1024), idleRssMb: round(idle.rssKb / 1024), idleHeapMb: round(idle.heapUsedKb / 1024), points, marginalPerDemoKb };
  } finally {
    await controller.stop();
    await stack.close();
  }
}

export function memoryRows(r: MemoryResults): string[][] {
  return [
    ["Controller RSS idle (after GC)", `${r.idleRssMb} MB (heap ${r.idleHeapMb} MB)`, `bare Node with the same packages loaded ${r.bareRssMb} MB`, `${round(r.idleRssMb / r.bareRssMb, 2)}× bare`],
    ...r.points.map((point) => [`Controller memory with ${point.demos.toLocaleString("en")} live demos (${r.runtime} runtime; engine, HTTP, route rendering, nginx real; after GC)`, `${point.rssMb} MB RSS, heap ${point.heapMb} MB`, `idle ${r.idleRssMb} MB`, `${point.perDemoKb} KB RSS / ${point.heapPerDemoKb} KB heap per demo over idle`]),
    [`Controller memory per demo added, ${r.points[0]!.demos.toLocaleString("en")} → ${r.points.at(-1)!.demos.toLocaleString("en")} demos`, `${r.marginalPerDemoKb} KB RSS`, "—", "target ≤ 20 KB"],
  ];
}
