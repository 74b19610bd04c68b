// What the defences of issue 16 cost a cold launch: the same launches on two controllers, one with them, one without.
import { startStack, type Stack } from "../test/support/stack.js";
import { median, percentile, round, until200 } from "./measure.js";
import type { DemoView } from "../src/api/views.js";

export interface DefenceResults {
  launches: number;
  p50Ms: number;
  p95Ms: number;
  withoutP50Ms: number;
  withoutP95Ms: number;
  ratio: number;
  p95Ratio: number;
}

const HEALTH = { path: "/health.txt", body: "ok" };

/**
 * Two stacks side by side, launches interleaved: A has every defence (capabilities dropped, ulimits, the disk
 * guard listing writable layers every 5 s, the free-disk floor, egress rules kept); B has Docker's defaults and no
 * guard (`defences: false`). The demo network's iptables chains are the kernel's, so both pass through them.
 */
export async function defencesBench(image: string, launches: number, log: (line: string) => void): Promise<DefenceResults> {
  const app = `  cold:\n    image: ${image}\n    port: 8080\n    memory: 32m\n    pids: 256\n    banner: false\n    readiness: { path: ${HEALTH.path}, timeout: 120s }\n`;
  const limits = "limits: { maxDemos: 100, perClient: 100 }";
  const hardened = await startStack({ appsYaml: app, limitsYaml: limits });
  const plain = await startStack({ appsYaml: app, limitsYaml: limits, controllerOptions: { defences: false } });
  const timing = async (stack: Stack): Promise<number> => {
    const started = performance.now();
    const answer = await stack.api("POST", "/api/demos", { app: "cold" });
    const { id, host } = JSON.parse(answer.body) as DemoView;
    const ms = await until200(stack.nginxPort, host, HEALTH.path, HEALTH.body, started);
    await stack.api("DELETE", `/api/demos/${id}`);
    return ms;
  };
  try {
    const withDefences: number[] = [];
    const without: number[] = [];
    // One uncounted round each (code paths loaded), then interleaved, the order swapped every round.
    for (let i = -1; i < launches; i += 1) {
      const pair = i % 2 === 0 ? [await timing(hardened), await timing(plain)] : [await timing(plain), await timing(hardened)].reverse();
      if (i < 0) continue;
      withDefences.push(pair[0]!);
      without.push(pair[1]!);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const results = {
      launches,
      p50Ms: round(median(withDefences)),
      p95Ms: round(percentile(withDefences, 95)),
      withoutP50Ms: round(median(without)),
      withoutP95Ms: round(percentile(without, 95)),
      ratio: round(median(withDefences) / median(without), 2),
      p95Ratio: round(percentile(withDefences, 95) / percentile(without, 95), 2),
    };
    log(`defences: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await hardened.close();
    await plain.close();
  }
}

export function defenceRows(r: DefenceResults): string[][] {
  return [[`Cold launch with the tenant defences, p50 / p95 (${r.launches} launches, interleaved)`, `${r.p50Ms} / ${r.p95Ms} ms`, `without them ${r.withoutP50Ms} / ${r.withoutP95Ms} ms`, `${r.ratio} / ${r.p95Ratio}× (target ≤ 1.1)`]];
}
