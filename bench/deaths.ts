// Benchmark section: how soon a demo whose process dies is seen: from Docker's own record of the process's end
// (State.FinishedAt) to the first request through nginx that gets the controller's page saying so (410).
import { request, startStack } from "../test/support/stack.js";
import { median, percentile, round, until200 } from "./measure.js";
import type { DemoView } from "../src/api/views.js";

export interface DeathResults {
  demos: number;
  seenP50Ms: number;
  seenP95Ms: number;
  seenMaxMs: number;
  samplesMs: number[];
}

const HEALTH = "/health.txt";

export async function deathsBench(image: string, count: number, log: (line: string) => void): Promise<DeathResults> {
  const stack = await startStack({
    appsYaml: `  dies:\n    image: ${image}\n    port: 8080\n    ttl: 10m\n    memory: 32m\n    banner: false\n    env: { EXIT_AFTER: 2 }\n    readiness: { path: ${HEALTH}, timeout: 60s }\n`,
    limitsYaml: "limits: { maxDemos: 100, perClient: 100, launchesPerClient: 1000 }",
  });
  try {
    const seen: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const started = performance.now();
      // Docker replays its events from this second: a stream that connects late still hears the death.
      const since = Math.floor(Date.now() / 1000) - 1;
      const launched = await stack.api("POST", "/api/demos", { app: "dies" });
      if (launched.status !== 201) throw new Error(`deaths: the launch answered ${launched.status} ${launched.body.slice(0, 200)}`);
      const demo = JSON.parse(launched.body) as DemoView;
      // Docker's own record of the process's end: its `die` event, heard on a stream opened before it happens.
      const death = dieEvent(stack.docker, demo.id, since);
      death.catch(() => {});
      await until200(stack.nginxPort, demo.host, HEALTH, "ok", started, 60_000, 10);
      // Asked every 10 ms from the moment it serves until nginx hands the host to the controller's page.
      let seenAt: number | undefined;
      const giveUpAt = Date.now() + 60_000;
      while (seenAt === undefined) {
        if (Date.now() > giveUpAt) throw new Error(`deaths: ${demo.host} still served a minute after its app was due to exit`);
        const answer = await request(stack.nginxPort, { host: demo.host, path: HEALTH }).catch(() => undefined);
        if (answer?.status === 410) seenAt = Date.now();
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Docker's record comes before nginx could hand the host over: a minute without it is a broken stream, said so.
      const died = await Promise.race([death, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`deaths: Docker's events never told of ${demo.id}'s death, which nginx showed`)), 60_000).unref())]);
      seen.push(seenAt - died);
    }
    const result = { demos: seen.length, seenP50Ms: round(median(seen)), seenP95Ms: round(percentile(seen, 95)), seenMaxMs: round(Math.max(...seen)), samplesMs: seen.map((value) => round(value, 0)) };
    log(`deaths: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stack.close();
  }
}

/** When Docker says the demo's container died (its `die` event, in milliseconds since the epoch). */
async function dieEvent(docker: import("dockerode"), demoId: string, since: number): Promise<number> {
  const stream = (await docker.getEvents({ since, filters: { type: ["container"], event: ["die"], label: [`demo-launcher.id=${demoId}`] } })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  return new Promise<number>((resolve, reject) => {
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n").find((entry) => entry.trim());
      if (!line || !text.includes("\n")) return;
      stream.destroy();
      resolve((JSON.parse(line) as { timeNano: number }).timeNano / 1e6);
    });
    stream.on("error", reject);
  });
}

export function deathRows(r: DeathResults): string[][] {
  return [[`A ready demo whose process dies (${r.demos} demos): from Docker's record of its end to nginx handing its host to the controller's page`, `p50 / p95 ${r.seenP50Ms} / ${r.seenP95Ms} ms (max ${r.seenMaxMs})`, "", "target p95 ≤ 1500 ms"]];
}
