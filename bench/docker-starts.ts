// Benchmark section: how Docker on this machine handles container starts at once (1, 2, 4, 8 in flight): the
// throughput and each start's latency, which DockerPlacement.starts is chosen from (see DEFAULT_STARTS).
import Docker from "dockerode";
import { median, percentile, round } from "./measure.js";
import { freePort } from "../test/support/stack.js";
import { startFloorContainer, untilFloorAnswers } from "./floor.js";
import { ensureBridgeNetwork } from "../src/docker/bridge-network.js";

export interface StartsResults {
  containers: number;
  /** Per concurrency: starts per second, and create + start + first answer per container (p50, p95). */
  byConcurrency: Array<{ concurrency: number; perSecond: number; p50Ms: number; p95Ms: number }>;
}


/** `count` containers of `image`, `concurrency` at a time: each created, started and polled until it answers. */
async function round_(docker: Docker, image: string, count: number, concurrency: number): Promise<{ wallMs: number; each: number[] }> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const each: number[] = [];
  const made: Docker.Container[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const port = ports[next++]!;
      const t0 = performance.now();
      made.push(await startFloorContainer(docker, image, port, "starts"));
      await untilFloorAnswers(port, 5);
      each.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  for (let index = 0; index < made.length; index += 8) await Promise.all(made.slice(index, index + 8).map((container) => container.remove({ force: true })));
  return { wallMs, each };
}

export async function startsBench(image: string, count: number, log: (line: string) => void): Promise<StartsResults> {
  const docker = new Docker();
  await ensureBridgeNetwork(docker, "demo-launcher");
  const byConcurrency: StartsResults["byConcurrency"] = [];
  // One round first, not counted: the first starts pay for warming Docker's caches.
  await round_(docker, image, 4, 2);
  for (const concurrency of [1, 2, 4, 8]) {
    const { wallMs, each } = await round_(docker, image, count, concurrency);
    byConcurrency.push({ concurrency, perSecond: round((count * 1000) / wallMs, 2), p50Ms: round(median(each)), p95Ms: round(percentile(each, 95)) });
    log(`starts: ${JSON.stringify(byConcurrency.at(-1))}`);
  }
  return { containers: count, byConcurrency };
}

export function startsRows(r: StartsResults): string[][] {
  return r.byConcurrency.map((entry) => [`${r.containers} containers created and started, ${entry.concurrency} at a time (straight through the Docker API)`, `${entry.perSecond} a second; create → answers p50 / p95 ${entry.p50Ms} / ${entry.p95Ms} ms`, "", "chooses DockerPlacement.starts"]);
}
