// Unit tests of the pure core: durations, ids and hosts, port choice, routes and labels.
import { describe, expect, it } from "vitest";
import { describeDuration, formatDuration, parseDuration } from "../../src/core/duration.js";
import { hostFor, idEntropyBits, idFromHost, makeIdGenerator } from "../../src/core/routing/naming.js";
import { pickCandidatePort } from "../../src/docker/ports.js";
import { assertRouteIsSafe, routesFor } from "../../src/core/routing/routes.js";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { labelsFor, parseLabels, type Demo } from "../../src/core/model.js";
import { RoutesRenderer } from "../../src/nginx/render.js";
import { estimateWaitMs, LaunchRateLimiter } from "../../src/core/demos/limits.js";
import { coalesceLatest, singleFlight } from "../../src/core/single-flight.js";
import { Backoff } from "../../src/core/backoff.js";
import { DockerOutage } from "../../src/core/instances/docker-outage.js";

describe("durations", () => {
  it("reads the units operators write", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5m")).toBe(90_000);
  });
  it("refuses what is not a duration", () => {
    for (const bad of ["10", "m", "10x", "-5s", "0s", "", "1 h m"]) expect(parseDuration(bad)).toBeUndefined();
  });
  it("prints durations for people", () => {
    expect(formatDuration(600_000)).toBe("10m");
    expect(formatDuration(95_000)).toBe("1m 35s");
    expect(formatDuration(3_900_000)).toBe("1h 5m");
    expect(describeDuration(600_000)).toBe("10 minutes");
    expect(describeDuration(60_000)).toBe("1 minute");
    expect(describeDuration(90_000)).toBe("90 seconds");
    expect(describeDuration(7_200_000)).toBe("2 hours");
  });
});

describe("ids and hosts", () => {
  it("makes lowercase ids of the asked length that start with a letter", () => {
    const next = makeIdGenerator(8);
    const ids = new Set(Array.from({ length: 2000 }, next));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9]{7}$/);
  });
  it("gives at least 40 bits of randomness at the default length", () => {
    expect(idEntropyBits(8)).toBeGreaterThanOrEqual(40);
  });
  it("finds the id in a Host header and nothing else", () => {
    expect(idFromHost("abc12345.demo.localhost:8080", "demo.localhost")).toBe("abc12345");
    expect(idFromHost("ABC12345.Demo.Localhost", "demo.localhost")).toBe("abc12345");
    expect(idFromHost("demo.localhost", "demo.localhost")).toBeUndefined();
    expect(idFromHost("a.b.demo.localhost", "demo.localhost")).toBeUndefined();
    expect(idFromHost("abc12345.evil.example", "demo.localhost")).toBeUndefined();
    expect(idFromHost("../etc.demo.localhost", "demo.localhost")).toBeUndefined();
    expect(hostFor("abc12345", "demo.localhost")).toBe("abc12345.demo.localhost");
  });
});

describe("port choice", () => {
  it("never picks a taken port and finds the last free one", () => {
    const taken = new Set([20000, 20001, 20002, 20004]);
    for (let i = 0; i < 50; i += 1) expect(pickCandidatePort({ from: 20000, to: 20004 }, taken)).toBe(20003);
  });
  it("says so when the range is full", () => {
    expect(pickCandidatePort({ from: 1, to: 2 }, new Set([1, 2]))).toBeUndefined();
  });
});

/** A demo served by one healthy instance at 127.0.0.1:<port> (port 0: no instance yet). */
const demo = (overrides: Partial<Demo> & { port?: number }): Demo => {
  const { port = 20001, ...rest } = overrides;
  const id = rest.id ?? "abcd1234";
  return {
    id,
    kind: "visitor",
    app: "hello",
    host: "abcd1234.demo.localhost",
    createdAt: 0,
    expiresAt: 10_000,
    status: "ready",
    step: "done",
    instances: port ? [{ id: `${id}-1`, generation: 1, image: "img", endpoint: `127.0.0.1:${port}`, health: "healthy" }] : [],
    ...rest,
  };
};

describe("routes", () => {
  it("routes only answering, unexpired demos, in a stable order", () => {
    const routes = routesFor(
      [
        demo({ id: "zzzz0000", host: "zzzz0000.demo.localhost", port: 20003 }),
        demo({ id: "aaaa0000", host: "aaaa0000.demo.localhost", port: 20002 }),
        demo({ id: "starting", host: "starting.demo.localhost", status: "starting", step: "waiting-for-app" }),
        demo({ id: "routing0", host: "routing0.demo.localhost", status: "starting", step: "routing", port: 20005 }),
        demo({ id: "expired0", host: "expired0.demo.localhost", expiresAt: 5 }),
      ],
      5,
    );
    expect(routes.map((route) => route.host)).toEqual(["aaaa0000.demo.localhost", "routing0.demo.localhost", "zzzz0000.demo.localhost"]);
    expect(routes[0]!.backends).toEqual(["127.0.0.1:20002"]);
  });
  it("routes only healthy instances: a starting or draining one gets no requests", () => {
    const replacing = demo({});
    replacing.instances.push({ id: "abcd1234-2", generation: 2, image: "img:2", endpoint: "127.0.0.1:20009", health: "starting" });
    expect(routesFor([replacing], 0)[0]!.backends).toEqual(["127.0.0.1:20001"]);
    replacing.instances[0]!.health = "draining";
    replacing.instances[1]!.health = "healthy";
    expect(routesFor([replacing], 0)[0]!.backends).toEqual(["127.0.0.1:20009"]);
  });
  it("routes an environment's further routed services at hosts of their own, healthy instances only", () => {
    const environment = demo({});
    environment.instances[0]!.routes = { api: "127.0.0.1:20101" };
    environment.instances.push({ id: "abcd1234-2", generation: 2, image: "img", endpoint: "127.0.0.1:20002", routes: { api: "127.0.0.1:20102" }, health: "starting" });
    expect(routesFor([environment], 0).map((route) => [route.host, route.backends])).toEqual([
      ["abcd1234.demo.localhost", ["127.0.0.1:20001"]],
      ["api-abcd1234.demo.localhost", ["127.0.0.1:20101"]],
    ]);
  });
  it("refuses values that could inject nginx syntax", () => {
    expect(() => assertRouteIsSafe({ id: "x", host: "a.demo.localhost; include /etc/passwd", backends: ["127.0.0.1:1"] })).toThrow(/unsafe host/);
    expect(() => assertRouteIsSafe({ id: "x", host: "a.demo.localhost", backends: ["10.0.0.1:80; include x"] })).toThrow(/unsafe backend/);
    expect(() => assertRouteIsSafe({ id: "x", host: "a.demo.localhost", backends: ["evil.example:80"] })).toThrow(/unsafe backend/);
    expect(() => assertRouteIsSafe({ id: "x{", host: "a.demo.localhost", backends: ["10.0.0.1:80"] })).toThrow(/unsafe route id/);
  });
  it("reads back the generation and each host's endpoints of a rendered file", () => {
    const text = new RoutesRenderer().render({ generation: 42, controller: { host: "127.0.0.1", port: 8081 }, routes: routesFor([demo({})], 0) });
    expect(text).toContain("map $host $demo_launcher_backend");
    expect(text).toContain("abcd1234.demo.localhost 127.0.0.1:20001;");
    expect(text).not.toContain("upstream demo_launcher_u_");
    const parsed = parseRoutesFile(text);
    expect(parsed.generation).toBe(42);
    expect([...parsed.backends]).toEqual([["abcd1234.demo.localhost", ["127.0.0.1:20001"]]]);
  });
  it("gives a host with several healthy instances an upstream block, and reads it back", () => {
    const replicas = demo({ id: "shared01", host: "shared01.demo.localhost" });
    replicas.instances.push({ id: "shared01-2", generation: 2, image: "img", endpoint: "10.0.0.7:31000", health: "healthy" });
    const text = new RoutesRenderer().render({ generation: 3, controller: { host: "127.0.0.1", port: 8081 }, routes: routesFor([replicas, demo({})], 0) });
    expect(text).toMatch(/upstream demo_launcher_u_shared01 \{\n {4}server 10\.0\.0\.7:31000;\n {4}server 127\.0\.0\.1:20001;\n\}/);
    expect(text).toContain("shared01.demo.localhost demo_launcher_u_shared01;");
    expect(text).toContain("abcd1234.demo.localhost 127.0.0.1:20001;");
    expect(parseRoutesFile(text).backends.get("shared01.demo.localhost")).toEqual(["10.0.0.7:31000", "127.0.0.1:20001"]);
  });
});

describe("labels", () => {
  const labels = labelsFor({
    demo: { id: "abcd1234", kind: "visitor", app: "hello", host: "abcd1234.demo.localhost", createdAt: 1_700_000_000_000, expiresAt: 1_700_000_600_000, namespace: "default", owner: "c1" },
    instance: { id: "abcd1234-2", generation: 2, image: "hello:2" },
  });
  it("round-trip through Docker labels", () => {
    expect(labels["demo-launcher.expires-at"]).toBe("2023-11-14T22:23:20.000Z");
    expect(labels["demo-launcher.instance"]).toBe("abcd1234-2");
    expect(parseLabels(labels)).toEqual({
      demo: { id: "abcd1234", kind: "visitor", app: "hello", host: "abcd1234.demo.localhost", createdAt: 1_700_000_000_000, expiresAt: 1_700_000_600_000, namespace: "default", owner: "c1" },
      instance: { id: "abcd1234-2", generation: 2, image: "hello:2" },
    });
  });
  it("keep a preview's branch, commit and pull request (its DEMO_* values after a restart)", () => {
    const preview = { id: "shop-pr-7", kind: "preview" as const, app: "shop", host: "shop-pr-7.demo.localhost", createdAt: 1_700_000_000_000, expiresAt: 1_700_000_600_000, namespace: "default", preview: { branch: "feature", commit: "a".repeat(40), pr: "7" } };
    expect(parseLabels(labelsFor({ demo: preview, instance: { id: "shop-pr-7-1", generation: 1, image: "x" } }))?.demo).toEqual(preview);
  });
  it("treats damaged labels as not ours", () => {
    expect(parseLabels({ "demo-launcher.id": "x" })).toBeUndefined();
    expect(parseLabels({ ...labels, "demo-launcher.generation": "two" })).toBeUndefined();
    expect(parseLabels({ ...labels, "demo-launcher.kind": "robot" })).toBeUndefined();
    expect(parseLabels({ ...labels, "demo-launcher.expires-at": "soon" })).toBeUndefined();
  });
});

describe("fairness", () => {
  it("counts launches in a sliding window per client", async () => {
    const limiter = new LaunchRateLimiter(2, 60_000);
    limiter.record("a", 0);
    limiter.record("a", 10_000);
    expect(limiter.retryAfterSeconds("a", 20_000)).toBe(40);
    expect(limiter.retryAfterSeconds("b", 20_000)).toBe(0);
    expect(limiter.retryAfterSeconds("a", 60_001)).toBe(0);
  });
  it("estimates a place in line from the running demos' expiry times", async () => {
    const expiries = [30_000, 10_000, 20_000];
    expect(estimateWaitMs(expiries, 1, 600_000, 0)).toBe(10_000);
    expect(estimateWaitMs(expiries, 3, 600_000, 0)).toBe(30_000);
    // The fourth waits for the first slot to turn over twice.
    expect(estimateWaitMs(expiries, 4, 600_000, 0)).toBe(610_000);
    expect(estimateWaitMs([], 1, 600_000, 0)).toBe(0);
  });
});

describe("coalescing and back-off", () => {
  it("coalesceLatest: calls during a run share one more run, which takes the latest argument", async () => {
    const seen: number[] = [];
    let release: () => void = () => {};
    const work = coalesceLatest(async (value: number) => {
      seen.push(value);
      if (seen.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return value;
    });
    const first = work(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const [second, third, fourth] = [work(2), work(3), work(4)];
    release();
    expect(await Promise.all([first, second, third, fourth])).toEqual([1, 4, 4, 4]);
    expect(seen).toEqual([1, 4]);
  });
  it("singleFlight: calls during a run share it; the next call after it runs again", async () => {
    let runs = 0;
    const work = singleFlight(async () => {
      runs += 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
      return runs;
    });
    expect(await Promise.all([work(), work(), work()])).toEqual([1, 1, 1]);
    expect(await work()).toBe(2);
  });
  it("Backoff doubles up to its ceiling and starts over after reset", () => {
    const backoff = new Backoff({ firstMs: 250, maxMs: 1000 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([250, 500, 1000, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });
});

describe("Docker outages", () => {
  it("are reported once when they start and once when they end, a relapse right after included", () => {
    let now = 0;
    const logged: string[] = [];
    const outage = new DockerOutage(() => now, { info: (line) => logged.push(line), warn: () => {}, error: (line) => logged.push(line) });
    outage.lost("connect ECONNREFUSED");
    now += 1000;
    outage.lost("connect ECONNREFUSED");
    now += 7000;
    outage.answered();
    // A daemon still starting drops the next call: the same outage, not a new one.
    now += 500;
    outage.lost("socket hang up");
    expect(outage.status().state).toBe("unreachable");
    now += 500;
    outage.answered();
    expect(logged).toEqual(["Docker is not answering (connect ECONNREFUSED); demos keep their routes, launches wait for it, retrying every second", "Docker answers again after 8s; re-syncing"]);
    // Long after, it is a new outage.
    now += 60_000;
    outage.lost("connect ENOENT");
    expect(logged).toHaveLength(3);
  });
});
