// The HTTP answers, with fastify.inject on an engine with in-memory edges: statuses, problem+json words, admin gates.
import { afterEach, describe, expect, it } from "vitest";
import { publicOrigin } from "../../src/http/context.js";
import { httpApp, type HttpApp } from "../support/http-app.js";

const TOKEN = "a-long-enough-admin-token";

/** The server with the admin token, one app (hello, 1 minute) and these limits. */
function serverFor(limits = "limits: { maxDemos: 1, perClient: 1, queueLength: 0 }") {
  return httpApp(`adminToken: ${TOKEN}\n${limits}\napps:\n  hello: { image: img, port: 8080, ttl: 1m, readiness: { path: /, timeout: 5s } }\n`);
}

const admin = { authorization: `Bearer ${TOKEN}` };
const json = { "content-type": "application/json" };

describe("HTTP answers", () => {
  let app: HttpApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("words the core's refusals: unknown app (with the allowed ones), no room (with Retry-After)", async () => {
    const env = (app = await serverFor());
    const server = env.server;
    const unknown = await server.inject({ method: "POST", url: "/api/demos", headers: { ...json, host: "demo.localhost" }, payload: { app: "nope" } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers["content-type"]).toContain("application/problem+json");
    expect(unknown.json()).toMatchObject({ type: "https://demo-launcher.dev/problems/unknown-app", title: "Unknown app", detail: '"nope" is not an app here; allowed: hello.', allowed: ["hello"] });
    const list = await server.inject({ method: "POST", url: "/api/demos", headers: { ...json, host: "demo.localhost" }, payload: { app: ["hello"] } });
    expect(list.json().detail).toBe("The app must be one name, not a list; allowed: hello.");
    expect((await server.inject({ method: "POST", url: "/api/demos", headers: { ...json, host: "demo.localhost" }, payload: { app: "hello" }, remoteAddress: "10.0.0.1" })).statusCode).toBe(201);
    const full = await server.inject({ method: "POST", url: "/api/demos", headers: { ...json, host: "demo.localhost" }, payload: { app: "hello" }, remoteAddress: "10.0.0.2" });
    expect(full.statusCode).toBe(429);
    expect(full.headers["retry-after"]).toBe("60");
    expect(full.json().detail).toBe("All 1 demo slots are in use. Try again in about 1m.");
  });

  it("replaces a ready demo for the admin (202 with the replacement), and says why it cannot otherwise", async () => {
    const env = (app = await serverFor("limits: { maxDemos: 5, perClient: 5 }"));
    const server = env.server;
    const { demo } = await env.engine.launch("hello", undefined);
    await env.scheduler.runUntil(env.engine.settled());
    const url = `/api/demos/${demo.id}/replace`;
    // The new instance does not answer yet, so the replacement is still running at the second request.
    const answeringBefore = [...env.answering];
    env.answering.clear();
    env.answering.add(20000);
    expect((await server.inject({ method: "POST", url, headers: { ...json, host: "demo.localhost" }, payload: {} })).statusCode).toBe(401);
    const accepted = await server.inject({ method: "POST", url, headers: { ...json, ...admin, host: "demo.localhost" }, payload: { image: "img:2" } });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ id: demo.id, status: "ready", replacement: { status: "running", image: "img:2" }, instances: [{ generation: 1, health: "healthy" }] });
    const again = await server.inject({ method: "POST", url, headers: { ...json, ...admin, host: "demo.localhost" }, payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toBe(`Demo ${demo.id} is already being replaced by img:2; wait until that ends.`);
    for (const port of answeringBefore) env.answering.add(port);
    await env.scheduler.runUntil(env.engine.settled());
    const view = await server.inject({ method: "GET", url: `/api/demos/${demo.id}`, headers: { ...admin, host: "demo.localhost" } });
    expect(view.json()).toMatchObject({ replacement: { status: "succeeded", image: "img:2" }, instances: [{ generation: 2, image: "img:2", health: "healthy" }] });
    // A visitor sees the demo, not where its containers listen.
    const visitorView = await server.inject({ method: "GET", url: `/api/demos/${demo.id}`, headers: { host: "demo.localhost" }, remoteAddress: "10.0.0.3" });
    expect(visitorView.json().instances).toBeUndefined();
    const bad = await server.inject({ method: "POST", url, headers: { ...json, ...admin, host: "demo.localhost" }, payload: { image: "img:2", force: true } });
    expect(bad.json()).toMatchObject({ status: 400, detail: 'Unknown field "force"; allowed: image.' });
    const missing = await server.inject({ method: "POST", url: "/api/demos/zzzz9999/replace", headers: { ...json, ...admin, host: "demo.localhost" }, payload: {} });
    expect(missing.json()).toMatchObject({ status: 404, detail: "There is no live demo zzzz9999." });
  });

  it("answers a demo's services and one service's logs for the admin, refusing a malformed or unknown service in words", async () => {
    const env = (app = await serverFor("limits: { maxDemos: 5, perClient: 5 }"));
    const { demo } = await env.engine.launch("hello", undefined);
    await env.scheduler.runUntil(env.engine.settled());
    const get = (url: string, headers: Record<string, string> = admin) => env.server.inject({ method: "GET", url, headers: { ...headers, host: "demo.localhost" } });
    expect((await get(`/api/demos/${demo.id}/services`, {})).statusCode).toBe(401);
    expect((await get(`/api/demos/${demo.id}/services`)).json()).toEqual({ services: [] });
    expect((await get("/api/demos/zzzz9999/services")).json()).toMatchObject({ status: 404, detail: "There is no live demo zzzz9999." });
    expect((await get(`/api/demos/${demo.id}/logs?service=Bad%20Name`)).json()).toMatchObject({ status: 400, detail: '"service" must be a service name of the demo\'s Compose file (lower-case letters, digits, . _ -), not "Bad Name".' });
    expect((await get(`/api/demos/${demo.id}/logs?service=db`)).json()).toMatchObject({ status: 404, detail: `Demo ${demo.id} is a single container: it has no services to name.`, services: [] });
  });

  it("words refused extensions with the limits", async () => {
    const env = (app = await serverFor("limits: { maxDemos: 5, perClient: 5 }"));
    const server = env.server;
    const { demo } = await env.engine.launch("hello", undefined);
    const extend = (by: string) => server.inject({ method: "POST", url: `/api/demos/${demo.id}/extend`, headers: { ...json, ...admin, host: "demo.localhost" }, payload: { by } });
    expect((await extend("25h")).json().detail).toBe("An extension must be from 1s to 24h.");
    await extend("24h");
    expect((await extend("24h")).json().detail).toMatch(new RegExp(`^A demo may have at most 48h left; ${demo.id} would have 4`));
    await env.scheduler.runUntil(env.engine.settled());
  });

  it("answers bad requests with 4xx problem+json in words that name the allowed values, and never touches the routes", async () => {
    app = await httpApp(`apps:\n  slow: { image: img, port: 8080 }\n  crash: { image: img, port: 8080 }\n`);
    const cases: Array<{ method: "GET" | "POST"; url: string; body?: string; type?: string; status: number; detail?: RegExp }> = [
      { method: "POST", url: "/api/demos", body: "{not json", type: "application/json", status: 400, detail: /not valid JSON/ },
      { method: "POST", url: "/api/demos", body: '{"app":"nope"}', type: "application/json", status: 400, detail: /"nope" is not an app here; allowed: slow, crash/ },
      { method: "POST", url: "/api/demos", body: '{"app":42}', type: "application/json", status: 400, detail: /^The app must be one name, not a number; allowed: slow, crash\.$/ },
      { method: "POST", url: "/api/demos", body: '{"app":["slow"]}', type: "application/json", status: 400, detail: /^The app must be one name, not a list; allowed: / },
      { method: "POST", url: "/api/demos", body: "{}", type: "application/json", status: 400, detail: /^Name the app to launch; allowed: / },
      { method: "POST", url: "/launch", body: "app=slow&app=slow", type: "application/x-www-form-urlencoded", status: 400, detail: /^The app must be one name, not a list/ },
      { method: "GET", url: `/api/demos/${"a".repeat(300)}`, status: 400, detail: /is not a demo id/ },
      { method: "POST", url: "/api/demos", body: "[]", type: "application/json", status: 400, detail: /JSON object/ },
      { method: "POST", url: "/api/demos", body: '{"app":"slow","x":1}', type: "application/json", status: 400, detail: /Unknown field "x"/ },
      { method: "POST", url: "/api/demos", body: "app=slow", type: "text/plain", status: 415 },
      { method: "POST", url: "/api/demos", body: JSON.stringify({ app: "x".repeat(40_000) }), type: "application/json", status: 413 },
      { method: "GET", url: "/api/demos/..%2F..%2Fetc", status: 400, detail: /not a demo id/ },
      { method: "GET", url: "/api/demos/abcdefgh", status: 404 },
      { method: "GET", url: "/nowhere", status: 404 },
    ];
    for (const testCase of cases) {
      const answer = await app.viaNginx("203.0.113.5", { method: testCase.method, url: testCase.url, headers: testCase.type ? { "content-type": testCase.type } : {}, ...(testCase.body !== undefined ? { payload: testCase.body } : {}) });
      const name = `${testCase.method} ${testCase.url} ${testCase.body ?? ""}`.slice(0, 120);
      expect(answer.statusCode, name).toBe(testCase.status);
      expect(answer.headers["content-type"], name).toMatch(/^application\/problem\+json/);
      expect(answer.json().status, name).toBe(testCase.status);
      if (testCase.detail) expect(answer.json().detail, name).toMatch(testCase.detail);
    }
    await app.settled();
    expect(app.writes.flat()).toEqual([]);
    expect(app.engine.list()).toEqual([]);
  });

  it("accepts launches only from our own origins: the apex and a live or ended demo's page, not a name that never was one", async () => {
    app = await httpApp("limits: { maxDemos: 5, perClient: 5, launchesPerClient: 10 }");
    const apex = publicOrigin(app.config, "demo.localhost");
    const form = (origin: string) => app!.viaNginx("203.0.113.6", { method: "POST", url: "/launch", headers: { "content-type": "application/x-www-form-urlencoded", origin }, payload: "app=hello" });
    const evil = await form("http://evil.example");
    expect(evil.statusCode).toBe(403);
    expect(evil.json().detail).toBe(`Launches are accepted only from ${apex} and its demos, not from http://evil.example.`);
    expect((await form(apex)).statusCode).toBe(303);
    // The relaunch button on a live or ended demo's page posts from that demo's host...
    const { demo } = await app.engine.launch("hello", undefined);
    const demoOrigin = publicOrigin(app.config, demo.host);
    expect((await form(demoOrigin)).statusCode).toBe(303);
    await app.engine.stop(demo.id);
    expect((await form(demoOrigin)).statusCode).toBe(303);
    // ...but a name under the domain that was never a demo is nobody's page.
    const never = await form(publicOrigin(app.config, "abcd1234.demo.localhost"));
    expect(never.statusCode).toBe(403);
    expect(never.json().detail).toMatch(/not from http:\/\/abcd1234\.demo\.localhost/);
    expect((await form(publicOrigin(app.config, "abcd1234.demo.localhost.evil.example"))).statusCode).toBe(403);
    await app.settled();
  });

  it("keeps admin actions away from visitors coming through nginx, in the same words with or without a token", async () => {
    for (const yaml of ["", `adminToken: ${TOKEN}`]) {
      app = await httpApp(yaml);
      const refused = await app.viaNginx("203.0.113.7", { url: "/api/demos" });
      expect(refused.statusCode, yaml).toBe(401);
      expect(refused.json().detail).toBe("This needs an admin token (`Authorization: Bearer <token>`) or a console session.");
      // Straight from this machine: open without a token, needs it once one is set.
      expect((await app.inject({ url: "/api/demos", headers: { host: "demo.localhost" } })).statusCode).toBe(yaml ? 401 : 200);
      expect((await app.inject({ url: "/api/demos", headers: { host: "demo.localhost", ...admin } })).statusCode).toBe(200);
      await app.close();
      app = undefined;
    }
  });
});
