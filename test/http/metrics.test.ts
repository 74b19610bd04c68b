// /metrics through fastify.inject on the manual clock: what the launches did, counted; Prometheus' text format; no
// figures for anyone coming through nginx. A real Prometheus scraping it and promtool's check: test/system.
import { afterEach, describe, expect, it } from "vitest";
import { ControllerMetrics } from "../../src/metrics/metrics.js";
import { httpApp, type HttpApp } from "../support/http-app.js";
import { sample } from "../support/metrics.js";


describe("metrics", () => {
  let app: HttpApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("counts launches, refusals, readiness and ends, and tells what is live", async () => {
    app = await httpApp("limits: { maxDemos: 5, perClient: 5 }", {
      deps: ({ engine, config }) => {
        const metrics = new ControllerMetrics({ engine, apps: Object.keys(config.apps), watcherStatus: async () => ({ state: "ok", updatedAt: new Date(0).toISOString(), appliedGeneration: 9, reloads: 4 }) });
        engine.options.events!.push(metrics.sink);
        return { metrics };
      },
    });
    const launch = (body: unknown) => app!.viaNginx("203.0.113.5", { method: "POST", url: "/api/demos", headers: { "content-type": "application/json" }, payload: body as object });
    const first = await launch({ app: "hello" });
    expect((await launch({ app: "hello" })).statusCode).toBe(201);
    expect((await launch({ app: "nope" })).statusCode).toBe(400);
    await app.settled();
    expect(first.statusCode).toBe(201);
    await app.engine.stop(first.json().id);
    const answer = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081" } });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.body;
    expect(sample(text, /^demo_launcher_launches_total\{app="hello",outcome="started"\}/)).toBe(2);
    expect(sample(text, /^demo_launcher_launches_total\{app="other",outcome="unknown_app"\}/)).toBe(1);
    expect(sample(text, /^demo_launcher_launch_to_ready_seconds_count\{app="hello",kind="visitor"\}/)).toBe(2);
    expect(sample(text, /^demo_launcher_demos_ended_total\{app="hello",kind="visitor",status="stopped"\}/)).toBe(1);
    expect(sample(text, /^demo_launcher_live_demos\{kind="visitor",app="hello",status="ready"\}/)).toBe(1);
    expect(sample(text, /^demo_launcher_watcher_up /)).toBe(1);
  });

  it("shows the containers created ahead, in the metrics and the console, and a launch taking one", async () => {
    app = await httpApp("adminToken: metrics-test-token-0123456789\napps:\n  hello: { image: img, port: 8080, ttl: 10m, prepared: 2, readiness: { path: /, timeout: 5s } }\n", {
      deps: ({ engine, config }) => ({ metrics: new ControllerMetrics({ engine, apps: Object.keys(config.apps), watcherStatus: async () => undefined }) }),
    });
    await app.scheduler.settle();
    const scrape = async () => (await app!.inject({ method: "GET", url: "/metrics", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081", authorization: "Bearer metrics-test-token-0123456789" } })).body;
    expect(sample(await scrape(), /^demo_launcher_prepared_containers\{app="hello",state="ready"\}/)).toBe(2);
    const console = async () => (await app!.inject({ method: "GET", url: "/__admin/state", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081", authorization: "Bearer metrics-test-token-0123456789" } })).json().state.pools;
    expect(await console()).toEqual([{ app: "hello", size: 0, ready: 0, starting: 0, prepared: 2, preparedSize: 2 }]);
    expect((await app.viaNginx("203.0.113.5", { method: "POST", url: "/api/demos", headers: { "content-type": "application/json" }, payload: { app: "hello" } })).statusCode).toBe(201);
    expect(sample(await scrape(), /^demo_launcher_prepared_containers\{app="hello",state="ready"\}/)).toBe(1);
    expect(await console()).toEqual([{ app: "hello", size: 0, ready: 0, starting: 0, prepared: 1, preparedSize: 2 }]);
  });

  it("shows nothing through nginx without the token, and needs the token straight from elsewhere once one is set", async () => {
    app = await httpApp("adminToken: metrics-test-token-0123456789", {
      deps: ({ engine, config }) => ({ metrics: new ControllerMetrics({ engine, apps: Object.keys(config.apps), watcherStatus: async () => undefined }) }),
    });
    const outside = await app.viaNginx("203.0.113.6", { method: "GET", url: "/metrics" });
    expect(outside.statusCode).toBe(404);
    expect(outside.headers["content-type"]).toMatch(/problem\+json/);
    const withToken = await app.viaNginx("203.0.113.6", { method: "GET", url: "/metrics", headers: { authorization: "Bearer metrics-test-token-0123456789" } });
    expect(withToken.statusCode).toBe(200);
    const elsewhere = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "192.0.2.7", headers: { host: "demo.localhost" } });
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.json().detail).toBe("Metrics need the admin token: send `Authorization: Bearer <token>`.");
  });
});
