// Apps that start slowly, crash at start or never answer; a taken host port. Real Docker and nginx. (Bad requests,
// origins and admin gates: test/http/http.test.ts and test/http/bad-input.test.ts.)
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAndWait, namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";

describe("launch failures (real Docker, real nginx)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      appsYaml: `  slow:
    image: demo-launcher/hello:latest
    port: 8080
    ttl: 5m
    memory: 64m
    env: { START_DELAY: 3 }
    readiness: { path: /, timeout: 30s }
  crash:
    image: demo-launcher/hello:latest
    port: 8080
    memory: 64m
    env: { FAIL_AT_START: 1 }
  mute:
    image: demo-launcher/hello:latest
    port: 8080
    memory: 64m
    env: { START_DELAY: 600 }
    readiness: { path: /, timeout: 3s }
  dies:
    image: demo-launcher/hello:latest
    port: 8080
    memory: 64m
    env: { EXIT_AFTER: 2 }
  missing:
    image: demo-launcher/does-not-exist:1
    port: 8080`,
      extraYaml: "",
    });
  });
  afterAll(async () => stack?.close());

  it("shows the starting page through nginx while a slow app starts, then the app", async () => {
    const answer = await stack.api("POST", "/api/demos", { app: "slow" });
    const view = JSON.parse(answer.body);
    const starting = await waitFor("the starting page", async () => {
      const page = await stack.viaNginx(view.host, "/");
      return page.status === 503 && page.body.includes("Waiting for the app to answer") ? page : undefined;
    }, 10_000, 50);
    expect(starting.headers["retry-after"]).toBe("1");
    expect(starting.body).toContain("Your demo is starting");
    await waitFor("the app", async () => (await stack.viaNginx(view.host, "/")).body.includes("Hello guestbook"), 20_000);
  });

  it("reports a crash at start with the reason and removes the container", async () => {
    const failed = await launchAndWait(stack, "crash", "failed");
    expect(failed.reason).toBe("the app stopped while starting: it exited with code 3");
    await waitFor("its container to be removed", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === failed.id), 30_000);
    const page = await stack.viaNginx(failed.host, "/");
    expect(page.status).toBe(410);
    expect(page.body).toContain("This demo could not start");
  });

  it("unroutes a ready demo whose app dies, and its host says so, without waiting for a listing", async () => {
    // The safety-net listing runs minutes apart while Docker's events are followed: this is the event's doing.
    const ready = await launchAndWait(stack, "dies", "ready");
    expect((await stack.viaNginx(ready.host, "/")).body).toContain("Hello guestbook");
    const [info] = (await namespaceContainers(stack.docker, stack.namespace)).filter((entry) => entry.Labels["demo-launcher.id"] === ready.id);
    // Its death: Docker's own record of when the process ended.
    await stack.docker.getContainer(info!.Id).wait();
    const page = await waitFor("its host to say the app stopped", async () => {
      const answer = await stack.viaNginx(ready.host, "/");
      return answer.status === 410 ? answer : undefined;
    }, 30_000, 20);
    expect(page.body).toContain("stopped unexpectedly");
    const view = JSON.parse((await stack.api("GET", `/api/demos/${ready.id}`)).body);
    expect(view).toMatchObject({ status: "failed", reason: "the app stopped unexpectedly" });
  });

  it("fails an app that never answers within its readiness timeout", async () => {
    const failed = await launchAndWait(stack, "mute", "failed", 20_000);
    expect(failed.reason).toBe("the app did not answer on / within 3s");
    await waitFor("its container to be removed", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === failed.id), 30_000);
  });

  it("fails clearly when the app's image is not on the host", async () => {
    const failed = await launchAndWait(stack, "missing", "failed");
    expect(failed.reason).toBe("the image demo-launcher/does-not-exist:1 is not on this host");
  });

  it("binds another port when a host process holds the chosen one", async () => {
    // Hold every port of the range but one: Docker's bind fails on them and the launch moves on.
    const { from, to } = stack.config.ports;
    const free = from + 7;
    const holders: net.Server[] = [];
    const held = new Set<number>();
    for (let port = from; port <= Math.min(to, from + 19); port += 1) {
      if (port === free) continue;
      const server = net.createServer();
      // A port something else holds right now may be let go before the launch: only the ones we hold count.
      if (await new Promise<boolean>((resolve) => server.once("error", () => resolve(false)).listen(port, "127.0.0.1", () => resolve(true)))) held.add(port);
      holders.push(server);
    }
    expect(held.size).toBeGreaterThan(10);
    const narrow = await startStack({ ports: { from, to: from + 19 } });
    try {
      const ready = await launchAndWait(narrow, "hello", "ready");
      const [info] = await namespaceContainers(narrow.docker, narrow.namespace);
      const port = Number(info!.Labels["demo-launcher.port"]);
      expect(held.has(port), `port ${port} is held by this test`).toBe(false);
      expect(port).toBeGreaterThanOrEqual(from);
      expect(port).toBeLessThanOrEqual(from + 19);
      expect((await narrow.viaNginx(ready.host, "/")).body).toContain("Hello guestbook");
    } finally {
      await narrow.close();
      for (const server of holders) server.close();
    }
  });
});
