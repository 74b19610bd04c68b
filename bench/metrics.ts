// Benchmark section: what metrics and the lifecycle log cost a launch. Two stacks side by side, one with
// metrics on and one with them off, launches interleaved so both see the same machine; and a scrape's cost.
import { request, startStack, type Stack } from "../test/support/stack.js";
import { median, percentile, round, until200 } from "./measure.js";
import type { DemoView } from "../src/api/views.js";

export interface MetricsResults {
  launches: number;
  withMetricsP50Ms: number;
  withoutMetricsP50Ms: number;
  ratio: number;
  scrapeP50Ms: number;
  scrapeBytes: number;
}

const APP = (image: string) => `  cold:\n    image: ${image}\n    port: 8080\n    memory: 32m\n    banner: false\n    readiness: { path: /health.txt, timeout: 60s }`;

export async function metricsBench(rounds: number, image: string, log: (line: string) => void): Promise<MetricsResults> {
  const limits = "limits: { maxDemos: 50, perClient: 100, launchesPerClient: 1000 }";
  const withMetrics = await startStack({ appsYaml: APP(image), limitsYaml: limits });
  const withoutMetrics = await startStack({ appsYaml: APP(image), limitsYaml: limits, extraYaml: "metrics: { enabled: false }" });
  try {
    const on: number[] = [];
    const off: number[] = [];
    for (let index = 0; index < rounds; index += 1) {
      for (const [stack, into] of (index % 2 === 0 ? [[withMetrics, on], [withoutMetrics, off]] : [[withoutMetrics, off], [withMetrics, on]]) as Array<[Stack, number[]]>) {
        const started = performance.now();
        const launched = JSON.parse((await stack.api("POST", "/api/demos", { app: "cold" })).body) as DemoView;
        into.push(await until200(stack.nginxPort, launched.host, "/health.txt", "ok", started));
        await stack.api("DELETE", `/api/demos/${launched.id}`);
      }
    }
    const scrapes: number[] = [];
    let bytes = 0;
    for (let index = 0; index < 20; index += 1) {
      const started = performance.now();
      const answer = await request(withMetrics.config.listen.port, { path: "/metrics" });
      scrapes.push(performance.now() - started);
      bytes = answer.body.length;
    }
    const result = { launches: rounds, withMetricsP50Ms: round(median(on)), withoutMetricsP50Ms: round(median(off)), ratio: round(median(on) / median(off), 2), scrapeP50Ms: round(median(scrapes)), scrapeBytes: bytes };
    log(`metrics: launch p50 ${result.withMetricsP50Ms} ms with metrics, ${result.withoutMetricsP50Ms} ms without (p95 ${round(percentile(on, 95))} / ${round(percentile(off, 95))}); a scrape ${result.scrapeP50Ms} ms, ${bytes} bytes`);
    return result;
  } finally {
    await withMetrics.close();
    await withoutMetrics.close();
  }
}

export function metricsRows(r: MetricsResults): string[][] {
  return [
    [`Launch p50 with metrics on (${r.launches} interleaved launches each; the lifecycle log is on in both)`, `${r.withMetricsP50Ms} ms`, `metrics off ${r.withoutMetricsP50Ms} ms`, `${r.ratio}×`],
    ["A scrape of /metrics", `${r.scrapeP50Ms} ms p50`, `${r.scrapeBytes} bytes`, "—"],
  ];
}
