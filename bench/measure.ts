// Small measuring tools for the benchmark: percentiles, process memory, polling until a URL answers.
import { readdir, readFile } from "node:fs/promises";
import { request } from "../test/support/stack.js";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: number[]) => percentile(values, 50);
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** RSS of a process and all its children (nginx: master and workers). */
export async function treeRssMb(rootPid: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  let total = await rssMb(rootPid).catch(() => 0);
  for (const [pid, ppid] of parents) if (ppid === rootPid) total += await rssMb(pid).catch(() => 0);
  return total;
}

/** Milliseconds from `startedAt` until GET host/path through this port answers 200 with `expect`. */
export async function until200(port: number, host: string, path: string, expectBody: string, startedAt: number, timeoutMs = 60_000, intervalMs = 3): Promise<number> {
  const deadline = startedAt + timeoutMs;
  while (performance.now() < deadline) {
    const answer = await request(port, { host, path }).catch(() => undefined);
    if (answer?.status === 200 && answer.body.includes(expectBody)) return performance.now() - startedAt;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${host}${path} did not answer 200 within ${timeoutMs} ms`);
}
