// `npm run bench [-- --quick] [-- --only=cold,bursts,…]`: launch latency against the floor, warm pool, bursts, apply
// cost against server-block configs, controller memory, and serving through reloads; real Docker, real nginx, one run.
// --quick: the core sections at smaller sizes, a few minutes; the heavy ones (previews, webhooks, databases, console,
// swarm, footprint, under load) run in a full run or when --only names them.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { freePort, namespaceContainers, request, startStack, waitFor, type Stack } from "../test/support/stack.js";
import { RoutesRenderer } from "../src/nginx/render.js";
import { writeAtomically } from "../src/files/atomic.js";
import { PrivateNginx } from "../src/nginx/private-nginx.js";
import { SAMPLE_IMAGE } from "../src/docker/sample-image.js";
import { median, percentile, round, rssMb, treeRssMb, until200 } from "./measure.js";
import { replacementUnderLoad } from "./replacement.js";
import { previewsBench } from "./previews.js";
import { webhooksBench } from "./webhooks.js";
import { screenshotsBench } from "./screenshots.js";
import { tlsBench } from "./tls.js";
import { packageBench } from "./package.js";
import { databasesBench } from "./databases.js";
import { environmentsBench } from "./environments.js";
import { metricsBench } from "./metrics.js";
import { consoleBench } from "./console.js";
import { swarmBench } from "./swarm.js";
import { memoryBench } from "./memory.js";
import { startWrk } from "./wrk.js";
import { launchesUnderLoad } from "./under-load.js";
import { startsBench } from "./docker-starts.js";
import { deathsBench } from "./deaths.js";
import { publishFloor, startFloorContainer, startFloorNginx, untilFloorAnswers, type FloorNginx } from "./floor.js";
import { accessBench } from "./access.js";
import { defencesBench } from "./defences.js";
import { mergeIntoRecord, readRecord, resultsOf, table, writeRecord, type Results } from "./report.js";
import type { DemoList, DemoView } from "../src/api/views.js";

const quick = process.argv.includes("--quick");
const SIZE = quick
  ? { cold: 8, coldTail: 12, warm: 8, pool: 3, burst: 25, burstRounds: 1, burstOver: 30, applyReps: 1, rssDemos: 200, loadLaunches: 6, loadSeconds: 16, replacements: 4, previews: 2 }
  : { cold: 30, coldTail: 60, warm: 30, pool: 4, burst: 50, burstRounds: 3, burstOver: 60, applyReps: 3, rssDemos: 200, loadLaunches: 100, loadSeconds: 40, replacements: 10, previews: 5 };
const HEALTH = { path: "/health.txt", body: "ok" };

const results: Results = { quick, startedAt: new Date().toISOString(), machine: { cpus: os.cpus().length, memoryGb: round(os.totalmem() / 1024 ** 3) } };
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const appYaml = (name: string, extra = "") => `  ${name}:
    image: ${SAMPLE_IMAGE}
    port: 8080
    memory: 32m
    pids: 256
    banner: false
    readiness: { path: ${HEALTH.path}, timeout: 120s }
${extra}`;

async function post(stack: Stack, app: string) {
  const answer = await stack.api("POST", "/api/demos", { app });
  return { status: answer.status, body: answer.status < 300 ? (JSON.parse(answer.body) as DemoView) : undefined };
}

async function stopAll(stack: Stack) {
  const { demos } = JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList;
  // Each stop waits for its container's removal, which a loaded Docker can make slow.
  for (let i = 0; i < demos.length; i += 20) await Promise.all(demos.slice(i, i + 20).map((demo) => request(stack.config.listen.port, { method: "DELETE", path: `/api/demos/${demo.id}`, timeoutMs: 120_000 })));
}

// ---- 1 and 2: cold launch against the floor, and warm launch --------------------------------------

async function coldAndWarm(): Promise<void> {
  const stack = await startStack({ appsYaml: `${appYaml("cold", "    ttl: 10m\n")}${appYaml("warm", `    ttl: 10m\n    pool: ${SIZE.pool}\n`)}${appYaml("ahead", "    ttl: 10m\n    prepared: 1\n")}`, limitsYaml: "limits: { maxDemos: 100, perClient: 100 }" });
  try {
    const cold: number[] = [];
    const floor: number[] = [];
    const ahead: number[] = [];
    const stockReady = async () => (JSON.parse((await stack.api("GET", "/api/status")).body).prepared.ahead.ready as number) >= 1;
    const floorNginx = await startFloorNginx();
    // The warm app's pool fills at start: its containers starting beside the first launches are not a launch's cost.
    await waitFor("the pool to fill", async () => (JSON.parse((await stack.api("GET", "/api/status")).body).pool.warm.ready as number) >= SIZE.pool, 60_000, 100);
    // One round of each first, not counted: a process's first launch pays for loading code paths, on both sides.
    for (let i = -1; i < SIZE.coldTail; i += 1) {
      // Interleaved, so both see the same machine state.
      const started = performance.now();
      const launched = await post(stack, "cold");
      const coldMs = await until200(stack.nginxPort, launched.body!.host, HEALTH.path, HEALTH.body, started);
      await stack.api("DELETE", `/api/demos/${launched.body!.id}`);
      // A port free right now (consecutive ports after one free port were sometimes taken: a failed bind).
      const floorMs = await floorLaunch(stack, floorNginx, await freePort(), i + 3);
      // A launch that starts the container created ahead (the controller makes the next one once it is served).
      await waitFor("a container created ahead", stockReady, 60_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const aheadStarted = performance.now();
      const claimed = await post(stack, "ahead");
      const aheadMs = await until200(stack.nginxPort, claimed.body!.host, HEALTH.path, HEALTH.body, aheadStarted);
      await stack.api("DELETE", `/api/demos/${claimed.body!.id}`);
      if (i < 0) continue;
      cold.push(coldMs);
      floor.push(floorMs);
      ahead.push(aheadMs);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await floorNginx.nginx.close();
    results.cold = {
      launches: cold.length,
      p50Ms: round(median(cold)),
      p95Ms: round(percentile(cold, 95)),
      p99Ms: round(percentile(cold, 99)),
      floorP50Ms: round(median(floor)),
      floorP95Ms: round(percentile(floor, 95)),
      floorP99Ms: round(percentile(floor, 99)),
      ratio: round(median(cold) / median(floor), 2),
      p95Ratio: round(percentile(cold, 95) / percentile(floor, 95), 2),
      p99Ratio: round(percentile(cold, 99) / percentile(floor, 99), 2),
      samplesMs: cold.map((value) => round(value, 0)),
      floorSamplesMs: floor.map((value) => round(value, 0)),
      // Launches that start a container created ahead (apps.<name>.prepared), against the same floor (which creates).
      preparedP50Ms: round(median(ahead)),
      preparedP95Ms: round(percentile(ahead, 95)),
      preparedRatio: round(median(ahead) / median(floor), 2),
      preparedP95Ratio: round(percentile(ahead, 95) / percentile(floor, 95), 2),
      preparedSamplesMs: ahead.map((value) => round(value, 0)),
    };
    log(`cold: ${JSON.stringify(results.cold)}`);

    const warm: number[] = [];
    const poolReady = async () => (JSON.parse((await stack.api("GET", "/api/status")).body).pool.warm.ready as number) >= SIZE.pool;
    for (let i = 0; i < SIZE.warm; i += 1) {
      await waitFor("the pool to refill", poolReady, 60_000, 20);
      const started = performance.now();
      const launched = await post(stack, "warm");
      warm.push(await until200(stack.nginxPort, launched.body!.host, HEALTH.path, HEALTH.body, started));
      await stack.api("DELETE", `/api/demos/${launched.body!.id}`);
    }
    results.warm = { launches: warm.length, pool: SIZE.pool, p50Ms: round(median(warm)), p95Ms: round(percentile(warm, 95)) };
    log(`warm: ${JSON.stringify(results.warm)}`);
  } finally {
    await stack.close();
  }
}

/**
 * The floor: the same image started straight through the Docker API, polled until it answers, then one
 * route written and one nginx reload, until nginx serves it: what a hand-made script does, minus `nginx -t`.
 */
async function floorLaunch(stack: Stack, floorNginx: FloorNginx, hostPort: number, generation: number): Promise<number> {
  const started = performance.now();
  const container = await startFloorContainer(stack.docker, SAMPLE_IMAGE, hostPort);
  await untilFloorAnswers(hostPort, 3);
  const host = `floor${generation}.demo.localhost`;
  await publishFloor(floorNginx, generation, [{ id: host.split(".")[0]!, host, backends: [`127.0.0.1:${hostPort}`] }]);
  await until200(floorNginx.port, host, HEALTH.path, HEALTH.body, started);
  const elapsed = performance.now() - started;
  await container.remove({ force: true });
  return elapsed;
}

// ---- 3: bursts -----------------------------------------------------------------------------------

/**
 * The burst's floor: what a hand-made script does at best with 50 visitors at once: 50 containers created and
 * started at once through the Docker API, each polled until it answers, then one routes file with all 50 and one
 * reload, until nginx serves the last.
 */
async function burstFloor(stack: Stack, count: number): Promise<number> {
  const floorNginx = await startFloorNginx();
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const unique = [...new Set(ports)];
  const started = performance.now();
  const containers = await Promise.all(
    unique.map(async (hostPort) => {
      const container = await startFloorContainer(stack.docker, SAMPLE_IMAGE, hostPort);
      await untilFloorAnswers(hostPort, 10);
      return { container, hostPort };
    }),
  );
  const routes = containers.map(({ hostPort }, index) => ({ id: `burst${index}`, host: `burst${index}.demo.localhost`, backends: [`127.0.0.1:${hostPort}`] }));
  await publishFloor(floorNginx, 2, routes);
  const times = await Promise.all(routes.map((route) => until200(floorNginx.port, route.host, HEALTH.path, HEALTH.body, started)));
  const last = Math.max(...times);
  await Promise.all(containers.map(({ container }) => container.remove({ force: true })));
  await floorNginx.nginx.close();
  if (unique.length < count) log(`burst floor: only ${unique.length} distinct ports were free`);
  return last;
}

/** One burst of `count` launches at once: when the last was served, how many were, and the reloads it cost. */
async function oneBurst(stack: Stack, count: number): Promise<{ accepted: number; routable: number[]; reloads: number }> {
  const reloadsBefore = stack.watcher.currentStatus().reloads;
  const started = performance.now();
  // When each reload happened, for the log: a burst's reloads should gather its launches.
  const reloadTimes: number[] = [];
  let seenReloads = reloadsBefore;
  const reloadWatch = setInterval(() => {
    const now = stack.watcher.currentStatus().reloads;
    if (now > seenReloads) reloadTimes.push(round(performance.now() - started, 0));
    seenReloads = now;
  }, 20);
  const answers = await Promise.all(Array.from({ length: count }, () => post(stack, "burst")));
  const accepted = answers.filter((answer) => answer.status === 201);
  const times = await Promise.all(accepted.map((answer) => until200(stack.nginxPort, answer.body!.host, HEALTH.path, HEALTH.body, started, 180_000).catch(() => NaN)));
  clearInterval(reloadWatch);
  const routable = times.filter((time) => Number.isFinite(time));
  const reloads = stack.watcher.currentStatus().reloads - reloadsBefore;
  log(`burst: last of ${routable.length}/${count} served after ${round(Math.max(...routable))} ms, ${reloads} reloads (at ${reloadTimes.join(", ")} ms)`);
  await stopAll(stack);
  await waitFor("the burst to be removed", async () => (await namespaceContainers(stack.docker, stack.namespace)).length === 0, 120_000, 200);
  return { accepted: accepted.length, routable, reloads };
}

async function bursts(): Promise<void> {
  const stack = await startStack({ appsYaml: appYaml("burst", "    ttl: 10m\n"), limitsYaml: `limits: { maxDemos: ${SIZE.burst}, perClient: 1000, queueLength: 0 }` });
  try {
    // Docker's time to start 50 containers varies by seconds from one burst to the next here: rounds of the floor
    // and ours, interleaved, and the medians compared.
    const floors: number[] = [];
    const ours: Array<Awaited<ReturnType<typeof oneBurst>>> = [];
    for (let roundIndex = 0; roundIndex < SIZE.burstRounds; roundIndex += 1) {
      floors.push(await burstFloor(stack, SIZE.burst));
      log(`burst floor: last of ${SIZE.burst} served after ${round(floors.at(-1)!)} ms`);
      ours.push(await oneBurst(stack, SIZE.burst));
    }
    const lasts = ours.map((entry) => Math.max(...entry.routable));
    const burst = {
      n: SIZE.burst,
      rounds: SIZE.burstRounds,
      accepted: Math.min(...ours.map((entry) => entry.accepted)),
      routable: Math.min(...ours.map((entry) => entry.routable.length)),
      errors: Math.max(...ours.map((entry) => SIZE.burst - entry.routable.length)),
      lastRoutableMs: round(median(lasts)),
      floorLastRoutableMs: round(median(floors)),
      ratio: round(median(lasts) / median(floors), 2),
      roundRatios: lasts.map((last, index) => round(last / floors[index]!, 2)),
      p50RoutableMs: round(median(ours.flatMap((entry) => entry.routable))),
      reloads: Math.max(...ours.map((entry) => entry.reloads)),
    };
    log(`burst: ${JSON.stringify(burst)}`);

    const over = await Promise.all(Array.from({ length: SIZE.burstOver }, () => stack.api("POST", "/api/demos", { app: "burst" })));
    const overAccepted = over.filter((answer) => answer.status === 201).length;
    const refused = over.filter((answer) => answer.status === 429 && /^application\/problem\+json/.test(String(answer.headers["content-type"])) && answer.headers["retry-after"]).length;
    const other = over.length - overAccepted - refused;
    await waitFor("the accepted ones to settle", async () => {
      const { demos } = JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList;
      return demos.every((demo) => demo.status !== "starting");
    }, 180_000, 250);
    const containers = (await namespaceContainers(stack.docker, stack.namespace)).length;
    await stopAll(stack);
    await waitFor("the second burst to be removed", async () => (await namespaceContainers(stack.docker, stack.namespace)).length === 0, 120_000, 200).catch(() => undefined);
    const leaked = (await namespaceContainers(stack.docker, stack.namespace)).length;
    results.burst = { ...burst, over: { n: SIZE.burstOver, room: SIZE.burst, accepted: overAccepted, refusedWith429: refused, otherAnswers: other, containersWhileRunning: containers, leakedAfterStop: leaked } };
    log(`burst over: ${JSON.stringify((results.burst as Results).over)}`);
  } finally {
    await stack.close();
  }
}

// ---- 4: apply cost against one server block per demo ----------------------------------------------

async function applyCost(): Promise<void> {
  const backend = http.createServer((_request, response) => response.end("ok"));
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const backendPort = (backend.address() as import("node:net").AddressInfo).port;
  const renderer = new RoutesRenderer();
  const apply: Results = {};
  try {
    for (const n of [100, 1000, 10_000]) {
      const ours: number[] = [];
      const baseline: number[] = [];
      let oursRss = 0;
      let baselineRss = 0;
      for (let rep = 0; rep < SIZE.applyReps; rep += 1) {
        const mapRun = await applyRun(n, backendPort, "map", renderer);
        ours.push(mapRun.ms);
        oursRss = mapRun.rssMb;
        const serverRun = await applyRun(n, backendPort, "server-blocks", renderer);
        baseline.push(serverRun.ms);
        baselineRss = serverRun.rssMb;
      }
      apply[String(n)] = { ms: round(median(ours)), baselineMs: round(median(baseline)), ratio: round(median(ours) / median(baseline), 3), nginxRssMb: round(oursRss), baselineNginxRssMb: round(baselineRss) };
      log(`apply ${n}: ${JSON.stringify(apply[String(n)])}`);
    }
  } finally {
    backend.close();
  }
  results.apply = apply;
}

/** One apply: nginx running with n routes; add route n+1; render, write, nginx -t, reload, until it is served. */
async function applyRun(n: number, backendPort: number, layout: "map" | "server-blocks", renderer: RoutesRenderer): Promise<{ ms: number; rssMb: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `demo-launcher-apply-${layout}-`));
  const configDir = path.join(dir, "config");
  await mkdir(configDir, { recursive: true });
  const listen = { host: "127.0.0.1", port: await freePort() };
  const routes = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `r${i}`, host: `r${i}.bench.localhost`, backends: [`127.0.0.1:${backendPort}`] }));
  // The older tools' layout: one server block per demo, in the same file nginx includes at http{} level.
  const serverBlocks = (count: number) =>
    `${renderer.render({ generation: 1, controller: { host: "127.0.0.1", port: backendPort }, routes: [] })}\n` +
    routes(count).map((route) => `server {\n    listen ${listen.host}:${listen.port};\n    server_name ${route.host};\n    location / {\n        proxy_pass http://${route.backends[0]};\n    }\n}\n`).join("");
  const render = (count: number, generation: number) => (layout === "map" ? renderer.render({ generation, controller: { host: "127.0.0.1", port: backendPort }, routes: routes(count) }) : serverBlocks(count));
  const routesFile = path.join(configDir, "routes.conf");
  await writeFile(routesFile, render(n, 1));
  const nginx = await PrivateNginx.prepare({ prefix: path.join(dir, "prefix"), configDir, listen });
  await nginx.start();
  try {
    const started = performance.now();
    await writeAtomically(routesFile, render(n + 1, 2));
    await execa(nginx.binary, ["-t", "-q", "-p", nginx.options.prefix, "-c", nginx.confFile]);
    await execa(nginx.binary, ["-s", "reload", "-p", nginx.options.prefix, "-c", nginx.confFile]);
    const ms = await until200(listen.port, `r${n}.bench.localhost`, "/", "ok", started, 60_000);
    // Old workers leave once idle; measure the steady state.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const pid = Number((await readFile(path.join(nginx.options.prefix, "nginx.pid"), "utf8")).trim());
    return { ms, rssMb: await treeRssMb(pid) };
  } finally {
    await nginx.close();
  }
}

// ---- 5: controller footprint -----------------------------------------------------------------------

async function footprint(): Promise<void> {
  const stack = await startStack({ controller: "child", appsYaml: appYaml("small", "    ttl: 30m\n"), limitsYaml: `limits: { maxDemos: ${SIZE.rssDemos + 10}, perClient: 1000 }` });
  try {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const pid = stack.child!.pid!;
    const idleMb = await rssMb(pid);
    const started = performance.now();
    for (let i = 0; i < SIZE.rssDemos; i += 20) await Promise.all(Array.from({ length: Math.min(20, SIZE.rssDemos - i) }, () => stack.api("POST", "/api/demos", { app: "small" })));
    let last = "";
    await waitFor(`${SIZE.rssDemos} demos to settle`, async () => {
      const { demos } = JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList;
      const counts = `${demos.filter((demo) => demo.status === "ready").length} ready, ${demos.filter((demo) => demo.status === "starting").length} starting`;
      if (counts !== last) log(`footprint: ${counts}`);
      last = counts;
      return demos.every((demo) => demo.status !== "starting");
    }, 400_000, 1000);
    const readyAfterMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const { demos } = JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList;
    const ready = demos.filter((demo) => demo.status === "ready").length;
    if (ready < SIZE.rssDemos) log(`footprint: only ${ready} of ${SIZE.rssDemos} became ready; controller said: ${stack.childOutput.slice(-600)}`);
    results.rss = { idleMb: round(idleMb), at200Mb: round(await rssMb(pid)), demos: ready, allReadyAfterMs: round(readyAfterMs, 0) };
    log(`rss: ${JSON.stringify(results.rss)}`);
    await stopAll(stack);
  } finally {
    await stack.close();
  }
}

// ---- 6: serving through reloads --------------------------------------------------------------------


async function reloadLoad(): Promise<void> {
  const stack = await startStack({ appsYaml: `${appYaml("steady", "    ttl: 30m\n")}${appYaml("brief", "    ttl: 20s\n")}`, limitsYaml: "limits: { maxDemos: 200, perClient: 1000 }" });
  try {
    const steady = await Promise.all(Array.from({ length: 4 }, () => post(stack, "steady")));
    // Ready, not just answering: until then a request may still meet a worker without the route.
    await waitFor("the steady demos to be ready", async () => {
      const views = await Promise.all(steady.map(async (answer) => JSON.parse((await stack.api("GET", `/api/demos/${answer.body!.id}`)).body) as DemoView));
      return views.every((view) => view.status === "ready");
    }, 60_000, 100);
    const reloadsBefore = stack.watcher.currentStatus().reloads;
    const wrk = await startWrk(stack, steady.map((answer) => answer.body!.host), HEALTH.path, SIZE.loadSeconds);
    // Launches and expiries while the load runs: every one changes the routes and reloads nginx. A time box of 20 s
    // (not 5): on a slow Docker a demo that takes longer than its time box to start is never routed, and its
    // launch and expiry then change nothing (0 reloads, measured on 2026-12-06).
    let launched = 0;
    const spacing = ((SIZE.loadSeconds - 8) * 1000) / SIZE.loadLaunches;
    while (launched < SIZE.loadLaunches) {
      void post(stack, "brief");
      launched += 1;
      await new Promise((resolve) => setTimeout(resolve, spacing));
    }
    const load = await wrk.result((line) => log(`reload load: ${line}`));
    results.reloadLoad = {
      seconds: SIZE.loadSeconds,
      launches: launched,
      reloads: stack.watcher.currentStatus().reloads - reloadsBefore,
      requests: load.requests,
      errors5xx: load.errors5xx,
      connectErrors: load.connectErrors,
      readErrors: load.readErrors,
      timeouts: load.timeouts,
    };
    log(`reload load: ${JSON.stringify(results.reloadLoad)}`);
    await stopAll(stack);
  } finally {
    await stack.close();
  }
}

/** Name (its first word is what --only takes), whether --quick leaves it out unless named, and the section. */
const sections: Array<[string, "core" | "heavy", () => Promise<void>]> = [
  ["apply", "core", applyCost],
  ["starts", "core", async () => void (results.starts = await startsBench(SAMPLE_IMAGE, quick ? 12 : 24, log))],
  ["cold and warm", "core", coldAndWarm],
  ["deaths", "core", async () => void (results.deaths = await deathsBench(SAMPLE_IMAGE, quick ? 5 : 20, log))],
  ["bursts", "core", bursts],
  ["reload load", "core", reloadLoad],
  ["replacement", "core", async () => void (results.replacement = await replacementUnderLoad(SIZE.replacements, log))],
  ["previews", "heavy", async () => void (results.previews = await previewsBench(SIZE.previews, log))],
  ["webhooks", "heavy", async () => void (results.webhooks = await webhooksBench(SIZE.previews, log))],
  ["screenshots", "heavy", async () => void (results.screenshots = await screenshotsBench(SIZE.previews, log))],
  ["tls", "heavy", async () => void (results.tls = await tlsBench(quick ? 100 : 400, log))],
  ["databases", "heavy", async () => void (results.databases = await databasesBench(SIZE.previews, log))],
  ["environments", "heavy", async () => void (results.environments = await environmentsBench(quick ? 3 : 7, log))],
  ["metrics", "core", async () => void (results.metrics = await metricsBench(SIZE.cold, SAMPLE_IMAGE, log))],
  ["console", "heavy", async () => void (results.console = await consoleBench(SIZE.rssDemos, quick ? 10 : 20, SAMPLE_IMAGE, log))],
  ["swarm", "heavy", async () => void (results.swarm = await swarmBench(SIZE.cold, log))],
  ["footprint", "heavy", footprint],
  ["under load", "heavy", async () => void (results.underLoad = await launchesUnderLoad(SAMPLE_IMAGE, quick ? 50 : 200, quick ? 50 : 200, quick ? 20 : 60, log))],
  ["memory", "core", async () => void (results.memory = await memoryBench(quick ? [1000, 5000] : [1000, 5000, 10_000], log))],
  ["defences", "core", async () => void (results.defences = await defencesBench(SAMPLE_IMAGE, quick ? 10 : SIZE.cold * 2, log))],
  ["access", "core", async () => void (results.access = await accessBench(quick ? 500 : 3000, log))],
  ["package", "heavy", async () => void (results.package = await packageBench(log))],
];
const out = path.join(path.dirname(new URL(import.meta.url).pathname), "results", "latest.json");
// --table: the table of the figures on record (each section as its last full run measured it), without running anything.
if (process.argv.includes("--table")) {
  console.log(table(resultsOf(await readRecord())));
  process.exit(0);
}
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
const known = sections.map(([name]) => name.split(" ")[0]!);
const unknown = only?.split(",").filter((name) => !known.includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`bench: --only=${unknown.join(",")} names no section; allowed: ${known.join(", ")}`);
  process.exit(2);
}
const started = performance.now();
const skipped: string[] = [];
for (const [name, weight, run] of sections) {
  if (only && !only.split(",").includes(name.split(" ")[0]!)) continue;
  if (!only && quick && weight === "heavy") {
    skipped.push(name.split(" ")[0]!);
    continue;
  }
  log(`${name}…`);
  try {
    await run();
  } catch (error) {
    results[`${name.replace(/ .*/, "")}Error`] = (error as Error).message;
    log(`${name} failed: ${(error as Error).message}`);
  }
}
results.durationSeconds = round((performance.now() - started) / 1000, 0);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
// A full run's sections go on record (a quick run's smaller sizes would not compare); `npm run docs` makes the page.
await writeRecord(mergeIntoRecord(await readRecord(), results));
console.log(table(results));
console.log(`\n${quick ? "quick run" : "full run"} in ${results.durationSeconds} s; JSON in bench/results/latest.json${quick ? "" : "; its sections are on record in bench/results/record.json (npm run docs puts them in docs/operations/performance.md)"}`);
if (skipped.length > 0) console.log(`left out by --quick (run them with --only=${skipped.join(",")}): ${skipped.join(", ")}`);
process.exit(Object.keys(results).some((key) => key.endsWith("Error")) ? 1 : 0);
