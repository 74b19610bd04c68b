// Benchmark section: the launch path under load. 200 visitors launch within 60 s, through nginx as a landing page
// does, while 200 other demos are live and served (wrk); the controller runs as its own process, as in production.
import type Docker from "dockerode";
import { freePort, request, startStack, type Stack } from "../test/support/stack.js";
import type { Route } from "../src/core/routing/routes.js";
import { publishFloor, startFloorContainer, startFloorNginx, untilFloorAnswers } from "./floor.js";
import { median, percentile, round, until200 } from "./measure.js";
import { startWrk, type WrkResult } from "./wrk.js";
import type { DemoView } from "../src/api/views.js";

export interface UnderLoadResults {
  liveDemos: number;
  launches: number;
  seconds: number;
  /** 201: started (or a warm member); 202: in line. Anything else is counted apart. */
  started: number;
  queued: number;
  otherAnswers: number;
  launch5xx: number;
  readyP50Ms: number;
  readyP95Ms: number;
  readyMaxMs: number;
  notReady: number;
  wrk: WrkResult;
  /** The same launches at the same pace by a script (create + start through the Docker API, one route and one reload each). */
  floorP50Ms?: number;
  floorP95Ms?: number;
  floorNotReady?: number;
  ratio?: number;
  p95Ratio?: number;
}

const HEALTH = "/health.txt";

export async function launchesUnderLoad(image: string, live: number, launches: number, seconds: number, log: (line: string) => void): Promise<UnderLoadResults> {
  const app = (name: string) => `  ${name}:\n    image: ${image}\n    port: 8080\n    ttl: 30m\n    memory: 32m\n    banner: false\n    readiness: { path: ${HEALTH}, timeout: 120s }\n`;
  const stack = await startStack({
    controller: "child",
    appsYaml: `${app("held")}${app("visit")}`,
    limitsYaml: `limits: { maxDemos: ${live + launches + 10}, perClient: 10000, launchesPerClient: 10000, queueLength: 100 }`,
    ports: { from: 30000, to: 30000 + 2 * (live + launches) },
  });
  try {
    const held: Array<{ id: string; host: string }> = [];
    while (held.length < live) {
      const answers = await Promise.all(Array.from({ length: Math.min(20, live - held.length) }, () => stack.api("POST", "/api/demos", { app: "held" })));
      for (const answer of answers) {
        if (answer.status === 201) held.push(JSON.parse(answer.body) as DemoView);
        else log(`under load: a live demo's launch answered ${answer.status} ${answer.body.slice(0, 200)}; launching another`);
      }
    }
    const status = async () => JSON.parse((await stack.api("GET", "/api/status")).body) as { demos: { ready: number } };
    const readySince = performance.now();
    while ((await status()).demos.ready < live) {
      if (performance.now() - readySince > 600_000) throw new Error(`the ${live} live demos did not all become ready`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    log(`under load: ${live} live demos ready after ${round((performance.now() - readySince) / 1000)} s; launching ${launches} over ${seconds} s under wrk`);
    // 16 connections, each pausing 40 ms between requests: about 400 requests a second over the live demos. As fast
    // as wrk can go, it takes both cores of this machine, and the launches would measure the CPU left over.
    const wrk = await startWrk(stack, held.map((demo) => demo.host), HEALTH, seconds + 20, 40);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const spacing = (seconds * 1000) / launches;
    const outcomes: Array<Promise<{ status: number; readyMs?: number }>> = [];
    for (let index = 0; index < launches; index += 1) {
      outcomes.push(
        (async () => {
          const started = performance.now();
          // The landing page's request, through nginx to the apex.
          const answer = await request(stack.nginxPort, { host: stack.config.domain, method: "POST", path: "/api/demos", body: JSON.stringify({ app: "visit" }), headers: { "content-type": "application/json" }, timeoutMs: 30_000 }).catch(() => ({ status: 0, body: "" }));
          if (answer.status !== 201 && answer.status !== 202) return { status: answer.status };
          const demo = JSON.parse(answer.body) as DemoView;
          const readyMs = await until200(stack.nginxPort, demo.host, HEALTH, "ok", started, 120_000, 25).catch(() => undefined);
          return { status: answer.status, ...(readyMs !== undefined ? { readyMs } : {}) };
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, spacing));
    }
    const settled = await Promise.all(outcomes);
    const load = await wrk.result((line) => log(`under load: ${line}`));
    const ready = settled.flatMap((outcome) => (outcome.readyMs !== undefined ? [outcome.readyMs] : []));
    const floor = await floorUnderLoad(stack, held.map((demo) => demo.host), launches, seconds, image);
    const result: UnderLoadResults = {
      liveDemos: live,
      launches,
      seconds,
      started: settled.filter((outcome) => outcome.status === 201).length,
      queued: settled.filter((outcome) => outcome.status === 202).length,
      otherAnswers: settled.filter((outcome) => outcome.status !== 201 && outcome.status !== 202).length,
      launch5xx: settled.filter((outcome) => outcome.status >= 500 || outcome.status === 0).length,
      readyP50Ms: round(median(ready)),
      readyP95Ms: round(percentile(ready, 95)),
      readyMaxMs: round(Math.max(...ready)),
      notReady: settled.length - ready.length,
      wrk: load,
      floorP50Ms: round(median(floor.ready)),
      floorP95Ms: round(percentile(floor.ready, 95)),
      floorNotReady: launches - floor.ready.length,
      ratio: round(median(ready) / median(floor.ready), 2),
      p95Ratio: round(percentile(ready, 95) / percentile(floor.ready, 95), 2),
    };
    log(`under load: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stack.close();
  }
}

/**
 * The floor under the same load: the same number of visitors at the same pace, each handled the way a hand-made
 * script does: its container created and started at once through the Docker API, polled until it answers, then
 * the routes file written whole and nginx reloaded (one write and reload after another), until nginx serves it.
 */
async function floorUnderLoad(stack: Stack, liveHosts: string[], launches: number, seconds: number, image: string): Promise<{ ready: number[] }> {
  const floorNginx = await startFloorNginx();
  const wrk = await startWrk(stack, liveHosts, HEALTH, seconds + 20, 40);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const routes: Route[] = [];
  const containers: Docker.Container[] = [];
  let generation = 1;
  let writes = Promise.resolve();
  const spacing = (seconds * 1000) / launches;
  const outcomes: Array<Promise<number | undefined>> = [];
  for (let index = 0; index < launches; index += 1) {
    outcomes.push(
      (async () => {
        const started = performance.now();
        const hostPort = await freePort();
        const container = await startFloorContainer(stack.docker, image, hostPort);
        containers.push(container);
        await untilFloorAnswers(hostPort, 10);
        const host = `floor${index}.demo.localhost`;
        routes.push({ id: `floor${index}`, host, backends: [`127.0.0.1:${hostPort}`] });
        writes = writes.then(() => publishFloor(floorNginx, (generation += 1), [...routes]));
        await writes;
        return await until200(floorNginx.port, host, HEALTH, "ok", started, 120_000, 25);
      })().catch(() => undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, spacing));
  }
  const ready = (await Promise.all(outcomes)).flatMap((ms) => (ms === undefined ? [] : [ms]));
  await wrk.result(() => {});
  for (let index = 0; index < containers.length; index += 10) await Promise.all(containers.slice(index, index + 10).map((container) => container.remove({ force: true }).catch(() => {})));
  await floorNginx.nginx.close();
  return { ready };
}

export function underLoadRows(r: UnderLoadResults): string[][] {
  return [
    [
      `${r.launches} launches within ${r.seconds} s through nginx while ${r.liveDemos} demos are live and served (wrk, 16 connections, ${round(r.wrk.requests / (r.seconds + 20))} req/s)`,
      `launch → served p50 / p95 ${r.readyP50Ms} / ${r.readyP95Ms} ms (max ${r.readyMaxMs}); ${r.started} started, ${r.queued} queued, ${r.otherAnswers} other answers, ${r.notReady} never served`,
      `wrk: ${r.wrk.requests} requests, p99 ${round(r.wrk.p99Ms)} ms, ${r.wrk.errors5xx} × 5xx, ${r.wrk.connectErrors} failed connects, ${r.wrk.readErrors} read errors`,
      "target: every launch answered 201/202, 0 × 5xx, 0 failed connections",
    ],
    ...(r.floorP50Ms !== undefined ? [[`The same ${r.launches} launches at the same pace by a script (create + start through the Docker API, one route and one reload each), same load`, `floor launch → served p50 / p95 ${r.floorP50Ms} / ${r.floorP95Ms} ms; ${r.floorNotReady} never served`, `ours ${r.ratio} / ${r.p95Ratio}× the floor`, "target ≤ 1.2× both"]] : []),
  ];
}
