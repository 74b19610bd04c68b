// The bad-input table over fastify.inject (the controller's own answers, without nginx in front): every answer a
// 4xx problem+json, nothing launched, and a flood of launches from one visitor makes one demo. Raw bytes Node's
// client cannot send, and what nginx itself refuses, are checked through a real nginx in test/system/bad-input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BAD_REQUESTS, wrongAnswer } from "../support/bad-requests.js";
import { httpApp, type HttpApp } from "../support/http-app.js";

const VISITOR = "203.0.113.9";

describe("bad input on the controller's HTTP surface", () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await httpApp("limits: { maxDemos: 5, perClient: 1, launchesPerClient: 3, launchWindow: 10m }");
  });
  afterAll(async () => app?.close());

  it.each(BAD_REQUESTS.filter((testCase) => !testCase.raw && !testCase.beforeRoutes))("$name → $status problem+json", async (testCase) => {
    const answer = await app.viaNginx(VISITOR, { method: (testCase.method ?? "GET") as "GET", url: testCase.path ?? "/", headers: { host: testCase.host ?? "demo.localhost", ...(testCase.type ? { "content-type": testCase.type } : {}), ...(testCase.headers ?? {}) }, ...(testCase.body !== undefined ? { payload: testCase.body } : {}) });
    expect(wrongAnswer(testCase, { status: answer.statusCode, headers: answer.headers as Record<string, string>, body: answer.body })).toBeUndefined();
  });

  it("left no demo and no route behind", async () => {
    await app.settled();
    expect(app.engine.list()).toEqual([]);
    expect(app.runtime.containers.size).toBe(0);
    expect(app.writes.flat()).toEqual([]);
  });

  it("answers a flood of launches from one visitor with one demo and then rate-limit answers", async () => {
    const visitor = "198.51.100.20";
    const launch = () => app.viaNginx(visitor, { method: "POST", url: "/api/demos", headers: { "content-type": "application/json" }, payload: '{"app":"hello"}' });
    const answers = [];
    for (let batch = 0; batch < 6; batch += 1) answers.push(...(await Promise.all(Array.from({ length: 20 }, launch))));
    expect(answers.map((answer) => answer.statusCode).filter((status) => ![200, 201, 429].includes(status))).toEqual([]);
    expect(answers.filter((answer) => answer.statusCode === 201)).toHaveLength(1);
    const ids = new Set(answers.filter((answer) => answer.statusCode < 300).map((answer) => (answer.json() as { id: string }).id));
    expect(ids.size).toBe(1);
    // Every launch that was accepted has run its course: one container, no second on its way.
    await app.settled();
    expect(app.runtime.containers.size).toBe(1);
    // Once that demo is stopped, the same visitor may launch again, up to launchesPerClient in the window.
    const stop = (id: string) => app.inject({ method: "DELETE", url: `/api/demos/${id}`, headers: { host: "demo.localhost" } });
    expect((await stop([...ids][0]!)).statusCode).toBe(204);
    const again = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await launch();
      again.push(answer.statusCode);
      if (answer.statusCode === 201) expect((await stop((answer.json() as { id: string }).id)).statusCode).toBe(204);
    }
    expect(again).toEqual([201, 201, 429]);
    const limited = await launch();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expect(String(limited.headers["content-type"])).toMatch(/^application\/problem\+json/);
  });
});
