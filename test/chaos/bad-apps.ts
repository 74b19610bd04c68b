// Demo apps that misbehave: crash, never answer, eat all their memory, fork-bomb. Each ends or is contained
// by its limits; the host and the other demos stay fine.
import path from "node:path";
import { execa } from "execa";
import { buildSampleImage, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";
import { appYaml, demoStatus, launch, percentile, served, sleep, visit, type DemoView } from "./common.js";
import { Checks, type Row } from "./report.js";

export const CHAOS_IMAGE = "demo-launcher/chaos-app:latest";

/** The badly behaved app (test/chaos/app), built when its sources changed. */
export async function ensureChaosImage(): Promise<void> {
  const docker = new (await import("dockerode")).default();
  const dir = path.join(import.meta.dirname, "app");
  if (!(await sampleImageIsCurrent(docker, CHAOS_IMAGE, dir))) await buildSampleImage(docker, CHAOS_IMAGE, () => {}, dir);
}
const PIDS_LIMIT = 64;

/** Times requests to a well-behaved demo while its neighbours misbehave. */
export class Neighbour {
  latencies: number[] = [];
  failures = 0;
  /** Connections closed under a request (by a retiring nginx worker), sent again as a browser would. */
  retries = 0;
  lastFailure = "";
  private running = true;
  private readonly done: Promise<void>;

  constructor(stack: Stack, host: string) {
    this.done = (async () => {
      while (this.running) {
        const started = Date.now();
        const view = await visit(stack, host);
        if (!view.ok) {
          this.failures += 1;
          this.lastFailure = view.answer;
        }
        if (view.retried) this.retries += 1;
        this.latencies.push(Date.now() - started);
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

export async function badApps(log: (line: string) => void): Promise<Row[]> {
  const stack = await startStack({
    controller: "child",
    beforeStart: ensureChaosImage,
    appsYaml: [
      appYaml("good", { ttl: "30m" }),
      appYaml("crash", { image: CHAOS_IMAGE, env: { MODE: "crash-later", AFTER: "2" } }),
      appYaml("mute", { image: CHAOS_IMAGE, env: { MODE: "never-ready" }, timeout: "4s" }),
      appYaml("hog", { image: CHAOS_IMAGE, env: { MODE: "memory-hog", AFTER: "2" }, memory: "64m" }),
      appYaml("bomb", { image: CHAOS_IMAGE, env: { MODE: "fork-bomb", AFTER: "1" }, pids: PIDS_LIMIT }),
    ].join("\n"),
    limitsYaml: "limits: { maxDemos: 20, perClient: 20 }",
  });
  const rows: Row[] = [];
  let neighbour: Neighbour | undefined;
  const settled = (id: string, timeoutMs: number) =>
    waitFor(`demo ${id} to end`, async () => {
      const view = await demoStatus(stack, id);
      return view && view.status !== "starting" && view.status !== "ready" ? view : undefined;
    }, timeoutMs).catch(() => demoStatus(stack, id));
  const ready = (id: string) => waitFor(`demo ${id} ready`, async () => ((await demoStatus(stack, id))?.status === "ready" ? demoStatus(stack, id) : undefined), 30_000).catch(() => undefined);
  /** The demo's container is gone, its host routes nowhere, and the visitor's page says why. */
  const cleanedUp = async (checks: Checks, view: DemoView | undefined) => {
    if (!view) return;
    // The demo is marked ended before Docker has finished removing its container.
    const gone = await waitFor("its container to go", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === view.id), 10_000).then(() => true, () => false);
    checks.that(gone, "its container is still there 10 s after it ended");
    const page = await stack.viaNginx(view.host, "/");
    checks.that(page.status >= 400 && page.status < 500 && !page.body.includes("chaos app"), `its host answered ${page.status} instead of the controller's page`);
  };
  try {
    const good = await ready(await launch(stack, "good"));
    if (!good) throw new Error("the well-behaved demo did not become ready");
    neighbour = new Neighbour(stack, good.host);

    {
      const checks = new Checks();
      const id = await launch(stack, "crash");
      checks.that((await ready(id)) !== undefined, "the crashing app never became ready first");
      const view = await settled(id, 15_000);
      checks.that(view?.status === "failed" && /stopped unexpectedly/.test(view.reason ?? ""), `it ended ${view?.status}: ${view?.reason ?? ""}`);
      await cleanedUp(checks, view);
      rows.push(row("demo app crashes after it was ready", checks, `ended 'failed: ${view?.reason ?? "?"}', container removed, slot freed`));
    }
    {
      const checks = new Checks();
      const view = await settled(await launch(stack, "mute"), 15_000);
      checks.that(view?.status === "failed" && /did not answer/.test(view.reason ?? ""), `it ended ${view?.status}: ${view?.reason ?? ""}`);
      await cleanedUp(checks, view);
      rows.push(row("demo app never becomes ready", checks, `ended 'failed: ${view?.reason ?? "?"}'`));
    }
    {
      const checks = new Checks();
      const before = await availableMemoryMiB();
      const id = await launch(stack, "hog");
      checks.that((await ready(id)) !== undefined, "the memory hog never became ready first");
      const view = await settled(id, 20_000);
      const after = await availableMemoryMiB();
      checks.that(view?.status === "failed" && /out of memory/.test(view.reason ?? ""), `it ended ${view?.status}: ${view?.reason ?? ""}`);
      checks.that(before - after < 256, `the host lost ${before - after} MiB of available memory`);
      await cleanedUp(checks, view);
      rows.push(row("demo app eats all its memory", checks, `killed at its 64 MiB limit by the kernel, ended 'failed: ${view?.reason ?? "?"}'; host available memory ${before} → ${after} MiB`));
    }
    {
      const checks = new Checks();
      const id = await launch(stack, "bomb");
      const view = await ready(id);
      checks.that(view !== undefined, "the fork bomb never became ready first");
      await sleep(3000);
      const container = (await namespaceContainers(stack.docker, stack.namespace)).find((info) => info.Labels["demo-launcher.id"] === id);
      const stats = container ? ((await stack.docker.getContainer(container.Id).stats({ stream: false })) as { pids_stats?: { current?: number } }) : undefined;
      const pids = stats?.pids_stats?.current ?? -1;
      // At least half the limit shows the bomb is going; at most the limit shows the limit holds.
      checks.that(pids >= PIDS_LIMIT / 2 && pids <= PIDS_LIMIT, `it runs ${pids} processes (limit ${PIDS_LIMIT})`);
      const forkStarted = Date.now();
      const fork = await execa("true", [], { reject: false });
      const forkMs = Date.now() - forkStarted;
      checks.that(fork.exitCode === 0 && forkMs < 2000, `the host could not start a process quickly (${forkMs} ms)`);
      checks.that((await stack.api("GET", "/healthz")).status === 200, "the controller stopped answering");
      const stopStarted = Date.now();
      checks.that((await stack.api("DELETE", `/api/demos/${id}`)).status === 204, "stopping the fork bomb failed");
      const gone = await waitFor("the fork bomb's container to go", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === id), 20_000).then(() => true, () => false);
      checks.that(gone, "the fork bomb's container was not removed within 20 s");
      rows.push(row("demo app fork-bombs", checks, `held at ${pids}/${PIDS_LIMIT} processes; host started a process in ${forkMs} ms; removed ${Date.now() - stopStarted} ms after stop`));
    }
    await neighbour.stop();
    const p99 = percentile(neighbour.latencies, 99);
    log(`  neighbour demo: ${neighbour.latencies.length} requests, ${neighbour.failures} failed, p50 ${percentile(neighbour.latencies, 50)} ms, p99 ${p99} ms`);
    rows.push({
      fault: "a well-behaved demo next to all of the above",
      injected: 1,
      survived: neighbour.failures === 0 && p99 < 1000 ? 1 : 0,
      lost: neighbour.failures,
      detail: `${neighbour.latencies.length} requests, ${neighbour.failures} failed${neighbour.failures ? ` (last: ${neighbour.lastFailure})` : ""} (${neighbour.retries} sent twice after a closed connection, as a browser does), p50 ${percentile(neighbour.latencies, 50)} ms, p99 ${p99} ms`,
    });
    return rows;
  } finally {
    await neighbour?.stop();
    await stack.close();
  }
}

function row(fault: string, checks: Checks, detail: string): Row {
  const ok = checks.failures.length === 0;
  return { fault, injected: 1, survived: ok ? 1 : 0, lost: ok ? 0 : 1, detail: ok ? detail : `FAILED: ${checks.failures.join("; ")}` };
}

async function availableMemoryMiB(): Promise<number> {
  const text = await import("node:fs/promises").then((fs) => fs.readFile("/proc/meminfo", "utf8"));
  return Math.round(Number(/MemAvailable:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024);
}
