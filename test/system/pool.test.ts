// The warm pool with real Docker and nginx: a claim serves at once with no start and no reload, and refills; stop
// --all takes the pool and the containers created ahead too.
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";

describe("warm pool (real Docker, real nginx)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      appsYaml: `  hello:
    image: demo-launcher/hello:latest
    port: 8080
    ttl: 10m
    memory: 32m
    pool: 2
    readiness: { path: /health.txt, timeout: 30s }
  ahead:
    image: demo-launcher/hello:latest
    port: 8080
    memory: 32m
    prepared: 1
    readiness: { path: /health.txt, timeout: 30s }`,
    });
  });
  afterAll(async () => stack?.close());

  const poolStatus = async () => JSON.parse((await stack.api("GET", "/api/status")).body).pool.hello as { ready: number; starting: number };

  it("hands out a started, routed container with no container start and no nginx reload, then refills", async () => {
    await waitFor("the pool to fill", async () => (await poolStatus()).ready === 2, 30_000);
    expect(JSON.parse((await stack.api("GET", "/api/demos")).body).demos).toEqual([]);
    const containersBefore = (await namespaceContainers(stack.docker, stack.namespace)).map((info) => info.Id).sort();
    const reloadsBefore = stack.watcher.currentStatus().reloads;

    const answer = await stack.api("POST", "/api/demos", { app: "hello" });
    expect(answer.status).toBe(201);
    const demo = JSON.parse(answer.body);
    expect(demo.status).toBe("ready");
    // Served through nginx at once, by a container that was already running.
    const page = await stack.viaNginx(demo.host, "/");
    expect(page.body).toContain("Hello guestbook");
    expect(stack.watcher.currentStatus().reloads).toBe(reloadsBefore);
    const claimed = (await namespaceContainers(stack.docker, stack.namespace)).find((info) => info.Labels["demo-launcher.id"] === demo.id);
    expect(containersBefore).toContain(claimed!.Id);
    expect(Date.parse(demo.expiresAt) - Date.now()).toBeGreaterThan(590_000);

    // The visitor's demo is listed; the pool refills in the background.
    expect(JSON.parse((await stack.api("GET", "/api/demos")).body).demos.map((entry: { id: string }) => entry.id)).toEqual([demo.id]);
    await waitFor("the pool to refill", async () => (await poolStatus()).ready === 2, 30_000);
    expect((await namespaceContainers(stack.docker, stack.namespace)).filter((info) => info.Labels["demo-launcher.app"] === "hello")).toHaveLength(3);
  });

  it("stop --all stops the demos and removes the pool's and the created-ahead containers; the next reaper pass makes none", async () => {
    await waitFor("the container created ahead", async () => JSON.parse((await stack.api("GET", "/api/status")).body).prepared.ahead.ready === 1, 30_000);
    expect(await namespaceContainers(stack.docker, stack.namespace)).toHaveLength(4);
    const stopped = await execa("node", [CLI, "--config", stack.configFile, "stop", "--all"], { reject: false, all: true });
    expect([stopped.exitCode, stopped.all]).toEqual([0, expect.stringContaining("removed 3 spare container(s) (warm pools, created ahead)")]);
    expect(await namespaceContainers(stack.docker, stack.namespace)).toEqual([]);
    await stack.controller!.engine.reapTick();
    expect(await namespaceContainers(stack.docker, stack.namespace)).toEqual([]);
  });
});
