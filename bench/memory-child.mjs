// Benchmark helper, run as its own plain-Node process from the built dist/ (as the controller runs): the controller
// (engine, HTTP server, real route rendering) on an in-memory container runtime, or with `--bare` only the same
// packages loaded; it answers "measure" with its memory after a full garbage collection.
import { readFile } from "node:fs/promises";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
const gc = globalThis.gc;
if (!gc) throw new Error("run with --expose-gc");

async function measure() {
  // Twice, with time between: V8 hands freed pages back to the OS from a background thread.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const usage = process.memoryUsage();
  // memoryUsage().rss is the VmRSS that ps, top and cgroups read.
  return { rssKb: Math.round(usage.rss / 1024), heapUsedKb: Math.round(usage.heapUsed / 1024), heapTotalKb: Math.round(usage.heapTotal / 1024), externalKb: Math.round(usage.external / 1024) };
}

if (process.argv.includes("--bare")) {
  // The controller's dependencies, each loaded, and nothing started.
  const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
  for (const name of Object.keys(manifest.dependencies)) await import(name);
  process.send({ ready: true });
} else {
  const { loadConfig } = await import(path.join(root, "dist/config/load.js"));
  const { startController } = await import(path.join(root, "dist/app/controller.js"));
  const { MemoryRuntime } = await import(path.join(root, "dist/core/memory-runtime.js"));
  const { silentLogger } = await import(path.join(root, "dist/logger.js"));
  const config = await loadConfig(process.argv[2]);
  const images = Object.values(config.apps).map((app) => app.image);
  const controller = await startController(config, { logger: silentLogger, runtime: new MemoryRuntime({ from: 20_000, to: 49_999 }, images), readiness: async () => true });
  process.send({ ready: true, url: controller.url });
  process.on("message", (message) => {
    if (message === "stop") void controller.close().then(() => process.exit(0));
  });
}
process.on("message", (message) => {
  if (message === "measure") void measure().then((memory) => process.send({ memory }));
  if (message === "stop" && process.argv.includes("--bare")) process.exit(0);
});
