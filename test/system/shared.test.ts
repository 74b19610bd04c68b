// Shared demos on a real Docker and nginx: replicas behind one host, started at start-up, outside visitor limits,
// reset blue-green on request and on a schedule with no failed request, a dead replica replaced, and a kill -9
// of the controller during a reset leaves exactly the configured replicas and no orphan.
import type { SharedView } from "../../src/api/views.js";
import { startLoad, type LoadRun } from "../support/load.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchAndWait, namespaceContainers, type Stack, startStack, untilPast, waitFor } from "../support/stack.js";


async function shared(stack: Stack, name: string): Promise<SharedView> {
  const answer = await stack.api("GET", "/api/shared");
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body).shared as SharedView[]).find((entry) => entry.name === name)!;
}

async function servedBy(stack: Stack, name: string, count: number): Promise<SharedView> {
  return waitFor(`${name} to serve with ${count} replicas`, async () => {
    const view = await shared(stack, name);
    const healthy = view.instances.filter((instance) => instance.health === "healthy");
    return view.status === "ready" && healthy.length === count && view.instances.length === count ? view : undefined;
  }, 60_000, 200);
}

/** What a load saw that was not the app's page: a failed request, another status, another body. */
function wrongAnswers(load: LoadRun): string[] {
  return [...load.failures.map((failure) => `failed: ${failure.error}`), ...load.answers.filter((answer) => answer.status !== 200 || !answer.body.includes("Hello guestbook")).map((answer) => `${answer.status} ${answer.body.slice(0, 80)}`)];
}

async function containersOf(stack: Stack, id: string) {
  return (await namespaceContainers(stack.docker, stack.namespace)).filter((info) => info.Labels["demo-launcher.id"] === id);
}

describe("shared demos", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      ...(process.env.DEBUG_SHARED ? { logger: (await import("../../src/logger.js")).consoleLogger() } : {}),
      nginxYaml: "  drain: 1s",
      limitsYaml: "limits: { maxDemos: 1, perClient: 1, queueLength: 0 }",
      extraYaml: `shared:
  try-it: { app: hello, replicas: 2 }
  nightly: { app: hello, replicas: 1, reset: "*/6 * * * * *", timeZone: Europe/Berlin }`,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("starts each at start-up with its replicas behind one host, outside the visitors' limits", async () => {
    const view = await servedBy(stack, "try-it", 2);
    expect(view.host).toBe("try-it.demo.localhost");
    expect(new Set(view.instances.map((instance) => instance.endpoint)).size).toBe(2);
    // nginx balances the host over both replicas.
    const routes = await (await import("node:fs/promises")).readFile(`${stack.dir}/nginx-config/routes.conf`, "utf8");
    for (const instance of view.instances) expect(routes).toContain(instance.endpoint!);
    expect((await stack.viaNginx("try-it.demo.localhost", "/")).body).toContain("Hello guestbook");
    // The one visitor slot is still free: shared replicas hold none.
    await launchAndWait(stack, "hello");
  });

  it("resets blue-green on request: new replicas, the old ones drained and removed, no failed request", async () => {
    const before = await servedBy(stack, "try-it", 2);
    for (let index = 0; index < 4; index += 1) await stack.viaNginx("try-it.demo.localhost", "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "message=left+before+the+reset" });
    const load = startLoad(stack.nginxPort, "try-it.demo.localhost");
    await load.more(10);
    const answer = await stack.api("POST", "/api/shared/try-it/reset");
    expect(answer.status).toBe(202);
    const after = await waitFor("the reset to succeed", async () => {
      const view = await shared(stack, "try-it");
      if (view.lastReset?.status === "failed") throw new Error(`reset failed: ${view.lastReset.reason}`);
      return view.lastReset?.status === "succeeded" && view.instances.length === 2 ? view : undefined;
    }, 60_000, 200);
    // Served on after the switch too, not only up to it.
    await load.more(20);
    await load.stop();
    expect(wrongAnswers(load)).toEqual([]);
    expect(after.lastReset).toMatchObject({ status: "succeeded", trigger: "requested" });
    const oldIds = new Set(before.instances.map((instance) => instance.id));
    expect(after.instances.every((instance) => !oldIds.has(instance.id))).toBe(true);
    // The old replicas drain (nginx.drain 1s here) and are then removed: waited for, a busy machine takes longer.
    await waitFor("the old replicas' containers to go", async () => (await containersOf(stack, "try-it")).length === 2, 15_000, 200);
    expect((await stack.viaNginx("try-it.demo.localhost", "/")).body).not.toContain("left before the reset");
    expect((await stack.api("POST", "/api/shared/nope/reset")).status).toBe(404);
  }, 90_000);

  it("replaces a replica that dies, and keeps serving meanwhile", async () => {
    const before = await servedBy(stack, "try-it", 2);
    const load = startLoad(stack.nginxPort, "try-it.demo.localhost");
    await load.more(10);
    const [victim] = await containersOf(stack, "try-it");
    await stack.docker.getContainer(victim!.Id).kill();
    const after = await waitFor("a new replica in its place", async () => {
      const view = await shared(stack, "try-it");
      if (process.env.DEBUG_SHARED) console.log(JSON.stringify(view));
      const healthy = view.instances.filter((instance) => instance.health === "healthy");
      return healthy.length === 2 && view.instances.some((instance) => !before.instances.some((old) => old.id === instance.id)) ? view : undefined;
    }, 30_000, 200);
    await load.more(10);
    await load.stop();
    // SIGKILL can cut the one request in flight on that replica after its status line was sent: nginx cannot
    // retry an answer it has begun to pass on, no balancer can. Every other request is served by the other one.
    const wrong = wrongAnswers(load);
    expect(wrong.length, wrong.join("; ")).toBeLessThanOrEqual(2);
    expect(after.instances).toHaveLength(2);
    expect((await containersOf(stack, "try-it")).map((info) => info.State)).toEqual(["running", "running"]);
  }, 60_000);

  it("resets on its cron schedule, in its time zone, and says when the next reset is", async () => {
    const view = await waitFor("a scheduled reset", async () => {
      const current = await shared(stack, "nightly");
      return current.lastReset?.trigger === "scheduled" && current.lastReset.status === "succeeded" ? current : undefined;
    }, 30_000, 200);
    expect(Date.parse(view.nextResetAt!)).toBeGreaterThan(Date.now() - 1000);
    expect(Date.parse(view.nextResetAt!)).toBeLessThanOrEqual(Date.now() + 6_000);
  }, 40_000);
});

describe("shared demos and a kill -9 of the controller during a reset", () => {
  let stack: Stack;

  afterEach(async () => {
    await stack?.close();
  });

  it("ends with exactly the configured replicas serving, the reset done again, and no orphan", async () => {
    stack = await startStack({ controller: "child", nginxYaml: "  drain: 1s", extraYaml: "shared:\n  try-it: { app: hello, replicas: 3 }" });
    await servedBy(stack, "try-it", 3);
    expect((await stack.api("POST", "/api/shared/try-it/reset")).status).toBe(202);
    // Killed while the new replicas are being made: some exist, none is routed yet.
    await waitFor("a new replica to exist", async () => (await containersOf(stack, "try-it")).length > 3, 10_000, 20);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    const load = startLoad(stack.nginxPort, "try-it.demo.localhost");
    await stack.startChild();
    const view = await waitFor("the interrupted reset to run again and succeed", async () => {
      const current = await shared(stack, "try-it");
      if (process.env.DEBUG_SHARED) console.log(JSON.stringify(current), stack.childOutput.slice(-1500));
      return current.lastReset?.status === "succeeded" && current.instances.length === 3 && current.instances.every((instance) => instance.health === "healthy") ? current : undefined;
    }, 60_000, 200);
    await load.stop();
    expect(wrongAnswers(load)).toEqual([]);
    await waitFor("only the three replicas in Docker", async () => (await containersOf(stack, "try-it")).length === 3, 15_000, 200);
    const running = await containersOf(stack, "try-it");
    expect(new Set(running.map((info) => info.Labels["demo-launcher.instance"]))).toEqual(new Set(view.instances.map((instance) => instance.id)));
  }, 120_000);

  it("runs a reset its schedule named while the controller was down, once it is back", async () => {
    // A schedule that fires once, a few seconds from now (UTC): the controller is down at that moment.
    const at = new Date(Date.now() + 6_000);
    const schedule = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    stack = await startStack({ controller: "child", nginxYaml: "  drain: 1s", extraYaml: `shared:\n  daily: { app: hello, replicas: 1, reset: "${schedule}", timeZone: UTC }` });
    const before = await servedBy(stack, "daily", 1);
    expect(before.lastReset).toBeUndefined();
    stack.child!.kill("SIGTERM");
    await stack.child!.catch(() => {});
    await untilPast(at.getTime());
    await stack.startChild();
    const after = await waitFor("the missed reset", async () => {
      const current = await shared(stack, "daily");
      return current.lastReset?.status === "succeeded" ? current : undefined;
    }, 30_000, 200);
    expect(after.lastReset!.trigger).toBe("missed");
    expect(after.instances.filter((instance) => instance.health === "healthy").map((instance) => instance.id)).not.toContain(before.instances[0]!.id);
    // The next one is tomorrow at the same time.
    expect(Date.parse(after.nextResetAt!) - at.getTime()).toBeGreaterThan(23 * 3_600_000);
  }, 90_000);
});
