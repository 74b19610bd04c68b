// Apps that start slowly, crash at start or never answer; a taken host port; bad requests. Real Docker and nginx.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAndWait, namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";

describe("launch failures and bad input (real Docker, real nginx)", () => {
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
    await waitFor("its container to be removed", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === failed.id), 5_000);
    const page = await stack.viaNginx(failed.host, "/");
    expect(page.status).toBe(410);
    expect(page.body).toContain("This demo could not start");
  });

  it("fails an app that never answers within its readiness timeout", async () => {
    const failed = await launchAndWait(stack, "mute", "failed", 20_000);
    expect(failed.reason).toBe("the app did not answer on / within 3s");
    await waitFor("its container to be removed", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === failed.id), 5_000);
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

  it("answers bad requests with 4xx problem+json and never touches the routes", async () => {
    const cases: Array<{ method: string; path: string; body?: string; type?: string; status: number; detail?: RegExp }> = [
      { method: "POST", path: "/api/demos", body: "{not json", type: "application/json", status: 400, detail: /not valid JSON/ },
      { method: "POST", path: "/api/demos", body: '{"app":"nope"}', type: "application/json", status: 400, detail: /"nope" is not an app here; allowed: slow, crash, mute, missing/ },
      { method: "POST", path: "/api/demos", body: '{"app":42}', type: "application/json", status: 400, detail: /^The app must be one name, not a number; allowed: slow, crash, mute, missing\.$/ },
      { method: "POST", path: "/api/demos", body: '{"app":["slow"]}', type: "application/json", status: 400, detail: /^The app must be one name, not a list; allowed: / },
      { method: "POST", path: "/api/demos", body: "{}", type: "application/json", status: 400, detail: /^Name the app to launch; allowed: / },
      { method: "POST", path: "/launch", body: "app=slow&app=slow", type: "application/x-www-form-urlencoded", status: 400, detail: /^The app must be one name, not a list/ },
      { method: "GET", path: `/api/demos/${"a".repeat(300)}`, status: 400, detail: /is not a demo id/ },
      { method: "POST", path: "/api/demos", body: "[]", type: "application/json", status: 400, detail: /JSON object/ },
      { method: "POST", path: "/api/demos", body: '{"app":"slow","x":1}', type: "application/json", status: 400, detail: /Unknown field "x"/ },
      { method: "POST", path: "/api/demos", body: "app=slow", type: "text/plain", status: 415 },
      { method: "POST", path: "/api/demos", body: JSON.stringify({ app: "x".repeat(40_000) }), type: "application/json", status: 413 },
      { method: "GET", path: "/api/demos/..%2F..%2Fetc", status: 400, detail: /not a demo id/ },
      { method: "GET", path: "/api/demos/abcdefgh", status: 404 },
      { method: "GET", path: "/nowhere", status: 404 },
    ];
    const routesBefore = await stack.viaNginx("demo.localhost", "/__demo/generation");
    for (const testCase of cases) {
      const answer = await stack.viaNginx("demo.localhost", testCase.path, { method: testCase.method, ...(testCase.body !== undefined ? { body: testCase.body } : {}), headers: testCase.type ? { "content-type": testCase.type } : {} });
      expect(answer.status, `${testCase.method} ${testCase.path} ${testCase.body ?? ""}`.slice(0, 120)).toBe(testCase.status);
      expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(answer.body);
      expect(problem.status).toBe(testCase.status);
      if (testCase.detail) expect(problem.detail).toMatch(testCase.detail);
    }
    expect((await stack.viaNginx("demo.localhost", "/__demo/generation")).body).toBe(routesBefore.body);
  });

  it("accepts launches only from our own origins", async () => {
    const form = (origin: string) => stack.viaNginx("demo.localhost", "/launch", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: "app=crash" });
    const evil = await form("http://evil.example");
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).detail).toBe(`Launches are accepted only from http://demo.localhost:${stack.nginxPort} and its demos, not from http://evil.example.`);
    expect((await form(`http://demo.localhost:${stack.nginxPort}`)).status).toBe(303);
    // The relaunch button on a live or ended demo's page posts from that demo's host...
    const launched = JSON.parse((await stack.api("POST", "/api/demos", { app: "slow" })).body) as { id: string; host: string };
    expect((await form(`http://${launched.host}:${stack.nginxPort}`)).status).toBe(303);
    await stack.api("DELETE", `/api/demos/${launched.id}`);
    expect((await form(`http://${launched.host}:${stack.nginxPort}`)).status).toBe(303);
    // ...but a name under the domain that was never a demo is nobody's page.
    const never = await form(`http://abcd1234.demo.localhost:${stack.nginxPort}`);
    expect(never.status).toBe(403);
    expect(JSON.parse(never.body).detail).toMatch(/not from http:\/\/abcd1234\.demo\.localhost/);
    expect((await form(`http://abcd1234.demo.localhost.evil.example:${stack.nginxPort}`)).status).toBe(403);
  });

  it("keeps admin actions away from visitors coming through nginx", async () => {
    const refused = await stack.viaNginx("demo.localhost", "/api/demos");
    expect(refused.status).toBe(401);
    // The same words whether or not a token is configured: nothing about the set-up is told to a stranger.
    expect(JSON.parse(refused.body).detail).toBe("This needs an admin token (`Authorization: Bearer <token>`) or a console session.");
    expect((await stack.api("GET", "/api/demos")).status).toBe(200);
  });
});
