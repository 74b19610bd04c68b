// Benchmark section: what gating a demo costs a request through nginx (auth_request with its per-session cache) against
// the same app public, requests interleaved on keep-alive connections; and how many checks reach the controller for
// a page of 50 assets loaded as a browser does (6 connections at once) with a session nginx has not seen yet.
import http from "node:http";
import { SAMPLE_IMAGE } from "../src/docker/sample-image.js";
import { ACCESS_COOKIE } from "../src/http/access/host-sessions.js";
import { hashPassword } from "../src/http/access/passwords.js";
import { startStack } from "../test/support/stack.js";
import { median, percentile, round } from "./measure.js";

export interface AccessResults {
  requests: number;
  publicP50Ms: number;
  publicP99Ms: number;
  gatedP50Ms: number;
  gatedP99Ms: number;
  p50Ratio: number;
  p99Ratio: number;
  /** Checks the controller answered while the gated requests ran (nginx's cache keeps a yes 5 s). */
  gatedChecks: number;
  pageAssets: number;
  pageChecks: number;
}

const PASSWORD = "bench passphrase 1";

function get(agent: http.Agent, port: number, host: string, path: string, cookie?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request({ host: "127.0.0.1", port, path, agent, headers: { host, ...(cookie ? { cookie } : {}) } }, (response) => {
      response.resume();
      response.on("end", () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${host}${path} answered ${response.statusCode}`))));
    });
    request.on("error", reject);
    request.end();
  });
}

/** The controller's count of access checks so far, from its metrics. */
async function checksSoFar(metrics: () => Promise<string>): Promise<number> {
  return (await metrics()).split("\n").filter((line) => line.startsWith("demo_launcher_access_checks_total{")).reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

export async function accessBench(requests: number, log: (line: string) => void): Promise<AccessResults> {
  const app = (name: string, access: string) => `  ${name}:\n    image: ${SAMPLE_IMAGE}\n    port: 8080\n    memory: 32m\n    pids: 64\n    ttl: 1h\n    banner: false\n    readiness: { path: /health.txt, timeout: 60s }\n    access: ${access}`;
  const stack = await startStack({ appsYaml: [app("open", "public"), app("gated", `{ mode: password, password: "${await hashPassword(PASSWORD)}" }`)].join("\n"), limitsYaml: "limits: { maxDemos: 10, perClient: 10 }" });
  try {
    const launch = async (name: string) => {
      const { id, host } = JSON.parse((await stack.api("POST", "/api/demos", { app: name })).body) as { id: string; host: string };
      await stack.controller!.engine.until(id, (demo) => demo?.status === "ready", AbortSignal.timeout(60_000));
      return host;
    };
    const open = await launch("open");
    const gated = await launch("gated");
    const session = async () => {
      const answer = await stack.viaNginx(gated, "/__demo/access/password", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ password: PASSWORD }).toString() });
      return [answer.headers["set-cookie"] ?? []].flat().find((line) => line.startsWith(`${ACCESS_COOKIE}=`))!.split(";")[0]!;
    };
    const metrics = async () => (await stack.api("GET", "/metrics")).body;
    const cookie = await session();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const publicMs: number[] = [];
    const gatedMs: number[] = [];
    // Warm both paths (and the cache), then interleave: the machine's noise falls on both alike.
    await get(agent, stack.nginxPort, open, "/health.txt");
    await get(agent, stack.nginxPort, gated, "/health.txt", cookie);
    const checksBefore = await checksSoFar(metrics);
    for (let i = 0; i < requests; i += 1) {
      if (i % 2 === 0) {
        publicMs.push(await get(agent, stack.nginxPort, open, "/health.txt"));
        gatedMs.push(await get(agent, stack.nginxPort, gated, "/health.txt", cookie));
      } else {
        gatedMs.push(await get(agent, stack.nginxPort, gated, "/health.txt", cookie));
        publicMs.push(await get(agent, stack.nginxPort, open, "/health.txt"));
      }
    }
    const gatedChecks = (await checksSoFar(metrics)) - checksBefore;
    agent.destroy();

    // A page and its 50 assets with a session nginx has not seen: the page's check is a miss, the assets wait on it.
    const pageAgent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    const fresh = await session();
    const beforePage = await checksSoFar(metrics);
    await get(pageAgent, stack.nginxPort, gated, "/", fresh);
    await Promise.all(Array.from({ length: 50 }, (_, n) => get(pageAgent, stack.nginxPort, gated, `/health.txt?asset=${n}`, fresh)));
    const pageChecks = (await checksSoFar(metrics)) - beforePage;
    pageAgent.destroy();

    const results: AccessResults = {
      requests,
      publicP50Ms: round(median(publicMs), 2),
      publicP99Ms: round(percentile(publicMs, 99), 2),
      gatedP50Ms: round(median(gatedMs), 2),
      gatedP99Ms: round(percentile(gatedMs, 99), 2),
      p50Ratio: round(median(gatedMs) / median(publicMs), 2),
      p99Ratio: round(percentile(gatedMs, 99) / percentile(publicMs, 99), 2),
      gatedChecks,
      pageAssets: 50,
      pageChecks,
    };
    log(`access: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await stack.close();
  }
}

export function accessRows(r: AccessResults): string[][] {
  return [
    [`A gated host's request through nginx, p50 / p99 (${r.requests} each, interleaved, keep-alive; ${r.gatedChecks} checks reached the controller)`, `${r.gatedP50Ms} / ${r.gatedP99Ms} ms`, `the same app public ${r.publicP50Ms} / ${r.publicP99Ms} ms`, `${r.p50Ratio} / ${r.p99Ratio}× (target ≤ 1.10 / ≤ 1.3)`],
    [`A page and its ${r.pageAssets} assets with a new session (6 connections)`, `${r.pageChecks} check(s) reached the controller`, "—", "target 1"],
  ];
}
