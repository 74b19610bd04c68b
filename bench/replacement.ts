// Benchmark section: zero-downtime replacement under load, beside a plain cold launch of the same image in the same run.
import { startLoad } from "../test/support/load.js";
import { startStack, waitFor } from "../test/support/stack.js";
import { ensureVersionedImages, versionedTag } from "../test/support/versioned-images.js";
import { median, percentile, round, until200 } from "./measure.js";
import type { DemoView } from "../src/api/views.js";

export interface ReplacementResults {
  replacements: number;
  requests: number;
  failedRequests: number;
  errors5xx: number;
  /** Keep-alive GETs re-sent on a new connection after a retiring nginx worker closed it (what browsers do). */
  retriedGets: number;
  requestsPerSecond: number;
  /** From POST /replace until a new connection gets the new image's page through nginx. */
  p50Ms: number;
  p95Ms: number;
  coldLaunchP50Ms: number;
  ratio: number;
}

export async function replacementUnderLoad(count: number, log: (line: string) => void): Promise<ReplacementResults> {
  const appsYaml = `  versioned:
    image: ${versionedTag("v1")}
    port: 8080
    ttl: 30m
    memory: 32m
    banner: false
    readiness: { path: /, timeout: 30s }`;
  const stack = await startStack({ appsYaml, nginxYaml: "  drain: 2s", limitsYaml: "limits: { maxDemos: 20, perClient: 100 }" });
  try {
    await ensureVersionedImages(stack.docker, ["v1", "v2"]);
    const launch = async () => {
      const started = performance.now();
      const answer = JSON.parse((await stack.api("POST", "/api/demos", { app: "versioned" })).body) as DemoView;
      const ms = await until200(stack.nginxPort, answer.host, "/", "version v1", started);
      return { ...answer, ms };
    };
    const demo = await launch();
    await waitFor("the demo to be ready", async () => (JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as DemoView).status === "ready", 30_000, 20);
    const load = startLoad(stack.nginxPort, demo.host, { pauseMs: 5 });
    const replaced: number[] = [];
    const cold: number[] = [];
    const loadStarted = Date.now();
    try {
      for (let round = 1; round <= count; round += 1) {
        const version = round % 2 === 1 ? "v2" : "v1";
        const asked = Date.now();
        const started = performance.now();
        const answer = await stack.api("POST", `/api/demos/${demo.id}/replace`, { image: versionedTag(version) });
        if (answer.status !== 202) throw new Error(`replace answered ${answer.status}: ${answer.body}`);
        await waitFor(`version ${version} served`, async () => load.answers.some((entry) => entry.at >= asked && !entry.keepAlive && entry.body.trim() === `version ${version}`), 30_000, 2);
        replaced.push(performance.now() - started);
        // Wait for the end (drain included) before the next one, and measure a plain cold launch meanwhile.
        const other = await launch();
        cold.push(other.ms);
        await stack.api("DELETE", `/api/demos/${other.id}`);
        await waitFor("the replacement to end", async () => (JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as DemoView).replacement?.status !== "running", 30_000, 50);
      }
    } finally {
      await load.stop();
    }
    const seconds = (Date.now() - loadStarted) / 1000;
    const results: ReplacementResults = {
      replacements: replaced.length,
      requests: load.answers.length,
      failedRequests: load.failures.length,
      errors5xx: load.answers.filter((entry) => entry.status >= 500).length,
      retriedGets: load.retried,
      requestsPerSecond: round(load.answers.length / seconds, 0),
      p50Ms: round(median(replaced)),
      p95Ms: round(percentile(replaced, 95)),
      coldLaunchP50Ms: round(median(cold)),
      ratio: round(median(replaced) / median(cold), 2),
    };
    log(`replacement: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await stack.close();
  }
}
