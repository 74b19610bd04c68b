// Table-driven bad input against the whole HTTP surface through a real nginx: every answer a 4xx
// problem+json (or a rate-limit answer), never a 5xx, never a change to the routes, never a crash. The
// controller's own answers, and a flood of launches from one visitor, are checked over inject: test/http/bad-input.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { BAD_REQUESTS, send, wrongAnswer } from "../support/bad-requests.js";
import { namespaceContainers, startStack, type Stack } from "../support/stack.js";

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
});
