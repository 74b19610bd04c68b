// The HTTP answers, with fastify.inject on an engine with in-memory edges: statuses, problem+json words, admin gates.
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { parseConfigText } from "../../src/config/load.js";
import { DEFAULT_TEMPLATES_DIR } from "../../src/nginx/render.js";
import { buildServer } from "../../src/http/server.js";
import { silentLogger } from "../../src/logger.js";
import { ALL_PORTS, setup } from "../support/engine-setup.js";

const TOKEN = "a-long-enough-admin-token";

async function serverFor(limits = "limits: { maxDemos: 1, perClient: 1, queueLength: 0 }") {
  const config = parseConfigText(`domain: demo.localhost\nadminToken: ${TOKEN}\n${limits}\napps:\n  hello: { image: img, port: 8080, ttl: 1m, readiness: { path: /, timeout: 5s } }\n`, "test.yaml", "/tmp");
  const env = setup({ apps: config.apps, limits: config.limits }, { answering: ALL_PORTS() });
  await env.engine.start();
  const server = await buildServer({ config, engine: env.engine, logger: silentLogger, templatesDir: DEFAULT_TEMPLATES_DIR, status: async () => ({}) });
  return { server, ...env };
}

const admin = { authorization: `Bearer ${TOKEN}` };
const json = { "content-type": "application/json" };

describe("HTTP answers", () => {
  let server: FastifyInstance | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("words the core's refusals: unknown app (with the allowed ones), no room (with Retry-After)", async () => {
    const env = await serverFor();
    server = env.server;
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
    const env = await serverFor("limits: { maxDemos: 5, perClient: 5 }");
    server = env.server;
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

  it("words refused extensions with the limits", async () => {
    const env = await serverFor("limits: { maxDemos: 5, perClient: 5 }");
    server = env.server;
    const { demo } = await env.engine.launch("hello", undefined);
    const extend = (by: string) => server!.inject({ method: "POST", url: `/api/demos/${demo.id}/extend`, headers: { ...json, ...admin, host: "demo.localhost" }, payload: { by } });
    expect((await extend("25h")).json().detail).toBe("An extension must be from 1s to 24h.");
    await extend("24h");
    expect((await extend("24h")).json().detail).toMatch(new RegExp(`^A demo may have at most 48h left; ${demo.id} would have 4`));
    await env.scheduler.runUntil(env.engine.settled());
  });
});
