// Who counts as a visitor through the real nginx: it overwrites a forged X-Real-IP with the peer's address, so a
// visitor cannot pose as many. The rules themselves (slots, the line, rates, /64s, origins): test/http/fairness.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";

describe("visitors through nginx", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ limitsYaml: "limits: { maxDemos: 2, perClient: 1, queueLength: 1, launchesPerClient: 3, launchWindow: 10m }" });
  });
  afterAll(async () => stack?.close());

  it("are who connects, whatever X-Real-IP they send", async () => {
    const json = { "content-type": "application/json" };
    const one = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { ...json, "x-real-ip": "192.0.2.50" }, body: '{"app":"hello"}' });
    const two = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { ...json, "x-real-ip": "192.0.2.51" }, body: '{"app":"hello"}' });
    expect(one.status).toBe(201);
    expect(two.status).toBe(200);
    expect(JSON.parse(two.body).id).toBe(JSON.parse(one.body).id);
    await stack.api("DELETE", `/api/demos/${JSON.parse(one.body).id}`);
  });
});
