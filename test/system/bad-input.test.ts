// Table-driven bad input against the whole HTTP surface through a real nginx: every answer a 4xx
// problem+json (or a rate-limit answer), never a 5xx, never a change to the routes, never a crash.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { BAD_REQUESTS, send, wrongAnswer } from "../support/bad-requests.js";
import { namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";

const json = "application/json";

describe("bad input on the HTTP surface (real nginx, real controller, real Docker)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ limitsYaml: "limits: { maxDemos: 5, perClient: 1, launchesPerClient: 3, launchWindow: 10m }" });
  });
  afterAll(async () => stack?.close());

  const routesFile = () => readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8");

  it.each(BAD_REQUESTS)("$name → $status problem+json", async (testCase) => {
    expect(wrongAnswer(testCase, await send(stack.nginxPort, testCase))).toBeUndefined();
  });

  it("left no demo, no container and no route behind, and the controller still answers", async () => {
    expect(await namespaceContainers(stack.docker, stack.namespace)).toEqual([]);
    expect(parseRoutesFile(await routesFile()).hosts.size).toBe(0);
    expect((await stack.api("GET", "/api/demos")).body).toBe('{"demos":[]}');
    expect((await stack.viaNginx("demo.localhost", "/healthz")).status).toBe(200);
  });

  it("answers a flood of bad requests with 4xx only, and stays up", async () => {
    const routesBefore = await routesFile();
    const floods = Array.from({ length: 400 }, (_, i) => BAD_REQUESTS[i % BAD_REQUESTS.length]!).filter((testCase) => !testCase.raw && (testCase.body?.length ?? 0) < 100_000);
    const statuses = new Map<number, number>();
    for (let start = 0; start < floods.length; start += 50) {
      const answers = await Promise.all(floods.slice(start, start + 50).map((testCase) => send(stack.nginxPort, testCase)));
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].every((status) => status >= 400 && status < 500), JSON.stringify([...statuses])).toBe(true);
    expect(await routesFile()).toBe(routesBefore);
    expect((await stack.viaNginx("demo.localhost", "/healthz")).status).toBe(200);
  });

  it("answers a flood of launches from one visitor with one demo and then rate-limit answers", async () => {
    const launch = () => stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { "content-type": json }, body: '{"app":"hello"}' });
    const answers = [];
    for (let batch = 0; batch < 6; batch += 1) answers.push(...(await Promise.all(Array.from({ length: 20 }, launch))));
    const ids = new Set(answers.filter((answer) => answer.status < 300).map((answer) => (JSON.parse(answer.body) as { id: string }).id));
    expect(answers.every((answer) => [200, 201, 429].includes(answer.status))).toBe(true);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(ids.size).toBe(1);
    // The launch answers before Docker has the container: wait for it, then make sure it stays the only one.
    await waitFor("the demo's container", async () => (await namespaceContainers(stack.docker, stack.namespace)).length === 1, 10_000);
    // Every launch that was accepted has run its course: no second container is on its way.
    await stack.controller!.settled();
    expect(await namespaceContainers(stack.docker, stack.namespace)).toHaveLength(1);
    // Once that demo is stopped, the same visitor may launch again, up to launchesPerClient in the window.
    const id = [...ids][0]!;
    expect((await stack.api("DELETE", `/api/demos/${id}`)).status).toBe(204);
    const again = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await launch();
      again.push(answer.status);
      if (answer.status === 201) await stack.api("DELETE", `/api/demos/${(JSON.parse(answer.body) as { id: string }).id}`);
    }
    const limited = await launch();
    expect(again).toEqual([201, 201, 429]);
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expect(String(limited.headers["content-type"])).toMatch(/^application\/problem\+json/);
  });
});
