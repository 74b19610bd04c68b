// What the fault scenarios share: the sample apps' YAML, demo listings, and the checks every scenario makes.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { namespaceContainers, type Stack } from "../support/stack.js";
import type { DemoView } from "../../src/core/model.js";

/** The API's view of a demo, as the source declares it (never retyped here). */
export type { DemoView };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { appYaml } from "../support/apps.js";

export async function listDemos(stack: Stack): Promise<DemoView[]> {
  const answer = await stack.api("GET", "/api/demos");
  if (answer.status !== 200) throw new Error(`GET /api/demos answered ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { demos: DemoView[] }).demos;
}

export async function launch(stack: Stack, app: string): Promise<string> {
  const answer = await stack.api("POST", "/api/demos", { app });
  if (answer.status !== 201) throw new Error(`launching ${app} answered ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { id: string }).id;
}

export async function demoStatus(stack: Stack, id: string): Promise<DemoView | undefined> {
  const answer = await stack.api("GET", `/api/demos/${id}`);
  return answer.status === 200 ? (JSON.parse(answer.body) as DemoView) : undefined;
}

/** True when nginx serves the demo's own app (not the controller's page about it). */
export async function served(stack: Stack, host: string, marker = "Hello guestbook"): Promise<boolean> {
  const answer = await stack.viaNginx(host, "/").catch(() => undefined);
  return answer?.status === 200 && answer.body.includes(marker);
}

/**
 * One page view of a visitor's open tab: like a browser, a GET whose connection was closed under it (a
 * retiring nginx worker after a reload) is sent once more. Says whether the app answered and if it took a retry.
 */
export async function visit(stack: Stack, host: string): Promise<{ ok: boolean; retried: boolean; answer: string }> {
  const isApp = (answer: { status: number; body: string }) => answer.status === 200 && answer.body.includes("Hello guestbook");
  const describe = (answer: Error | { status: number }) => (answer instanceof Error ? answer.message : `HTTP ${answer.status}`);
  const first = await stack.viaNginx(host, "/").catch((error: Error) => error);
  if (!(first instanceof Error)) return { ok: isApp(first), retried: false, answer: describe(first) };
  const second = await stack.viaNginx(host, "/").catch((error: Error) => error);
  return { ok: !(second instanceof Error) && isApp(second), retried: true, answer: describe(second) };
}

export async function routedHosts(stack: Stack): Promise<{ generation: number; hosts: Set<string>; backends: Map<string, string[]>; text: string }> {
  const text = await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8");
  return { ...parseRoutesFile(text), text };
}

/** The config nginx would load now is valid (what a restart of nginx would meet). */
export async function nginxAccepts(stack: Stack): Promise<boolean> {
  return (await execa("sh", ["-c", stack.nginx.testCommand], { reject: false })).exitCode === 0;
}

export interface Consistency {
  /** Containers of this namespace that no live demo owns. */
  orphans: string[];
  /** Routed hosts that are not a ready demo's. */
  staleRoutes: string[];
  /** Ready demos without a route. */
  unrouted: string[];
  /** Containers still there this long (ms) after their expiry, worst first. */
  overdue: number[];
}

/**
 * Docker, the controller and the routes file agree. Listing demos on both sides of the container listing
 * means a demo that ends in between is not mistaken for an orphan.
 */
export async function consistency(stack: Stack, toleranceMs: number): Promise<Consistency> {
  const before = await listDemos(stack);
  const containers = await namespaceContainers(stack.docker, stack.namespace);
  const routes = await routedHosts(stack);
  const after = await listDemos(stack);
  const known = new Set([...before, ...after].map((demo) => demo.id));
  const readyHosts = new Set([...before, ...after].filter((demo) => demo.status === "ready").map((demo) => demo.host));
  const readyAfter = after.filter((demo) => demo.status === "ready" && before.some((old) => old.id === demo.id && old.status === "ready"));
  const now = Date.now();
  return {
    orphans: containers.filter((info) => !known.has(info.Labels["demo-launcher.id"] ?? "")).map((info) => info.Labels["demo-launcher.id"] ?? info.Id),
    staleRoutes: [...routes.hosts].filter((host) => !readyHosts.has(host)),
    unrouted: readyAfter.filter((demo) => !routes.hosts.has(demo.host)).map((demo) => demo.host),
    overdue: containers
      .map((info) => now - (Date.parse(info.Labels["demo-launcher.expires-at"] ?? "") || now))
      .filter((late) => late > toleranceMs)
      .sort((a, b) => b - a),
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * A visitor writes in the demo's guestbook, and sees it. Right after a reload an old nginx worker can
 * still answer for a moment with the controller's page, so the entry is written again until it shows.
 */
export async function signGuestbook(stack: Stack, host: string, message: string): Promise<void> {
  const body = `message=${encodeURIComponent(message).replace(/%20/g, "+")}`;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    await stack.viaNginx(host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }).catch(() => undefined);
    if (await served(stack, host, message)) return;
    await sleep(250);
  }
  throw new Error(`could not write "${message}" in the guestbook of ${host}`);
}
