// Unit tests of previews' seeded data: the config's state: (files, shared demos, scrub, onPush) and the core's seed step
// (before routing, the failure on the demo, what a push's instance gets, a fork and shared rows).
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { previewSpecs } from "../../src/app/previews.js";
import { seedLoad } from "../../src/core/previews/preview-seed.js";
import { RestoreFailure, type PreviewSeed, type SeedLoad, type Seeder } from "../../src/core/state/state-sources.js";
import type { Demo } from "../../src/core/model.js";
import type { Route } from "../../src/core/routing/routes.js";
import { problemsOf } from "../support/config-problems.js";
import { ALL_PORTS, app, setup } from "../support/engine-setup.js";

const APPS = `apps:
  shop:
    image: shop:1
    port: 8080
    state:
      default: fixtures
      sources:
        fixtures: { driver: postgres, file: /opt/fixtures.sql, database: shop, user: postgres, owner: shop }
        saved: { kind: snapshot }
  plain: { image: plain:1, port: 8080 }
shared:
  try-shop: { app: shop }
  try-plain: { app: plain }
`;
const source = (state: string, extra = "") => `${APPS}previews:\n  web: { repo: /srv/web.git, port: 8080${extra}, state: ${state} }\n`;

describe("a preview source's state: in the config", () => {
  it("reads a seed from a file of the commit or a shared demo, with its scrub, and onPush keep by default", () => {
    const fromFile = parseConfigText(source("{ from: db/seed.sql, driver: postgres, database: shop, owner: shop, scrub: scripts/scrub.sql }"), "test.yaml", "/srv");
    expect(previewSpecs(fromFile).web!.seed).toEqual({ from: { kind: "file", path: "db/seed.sql" }, target: { driver: "postgres", database: "shop", owner: "shop", timeout: 600_000 }, scrub: "scripts/scrub.sql", onPush: "keep" });
    const fromShared = parseConfigText(source("{ from: shared/try-shop, driver: postgres, database: shop, onPush: seed }"), "test.yaml", "/srv");
    // The shared demo's database is reached as its app's dump source says.
    expect(previewSpecs(fromShared).web!.seed).toEqual({ from: { kind: "shared", name: "try-shop", target: { driver: "postgres", database: "shop", user: "postgres", owner: "shop", timeout: 600_000 } }, target: { driver: "postgres", database: "shop", timeout: 600_000 }, onPush: "seed" });
    const project = parseConfigText(`${APPS}github:\n  webhookSecrets: [0123456789abcdef]\n  repos:\n    acme/web: { port: 8080, state: { from: db/seed.sql, driver: mariadb, database: web } }\n`, "test.yaml", "/srv");
    expect(previewSpecs(project).web!.seed!.from).toEqual({ kind: "file", path: "db/seed.sql" });
  });

  it("refuses a seed it could not load, naming the key, the value and what is allowed", () => {
    expect(problemsOf(source("{ from: ../outside.sql, driver: postgres, database: shop }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.from: .*inside the repository/));
    expect(problemsOf(source("{ from: db/seed.sql, driver: oracle, database: shop }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.driver: .*mariadb, mysql, postgres/));
    expect(problemsOf(source("{ from: db/seed.sql, database: shop }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.driver: /));
    expect(problemsOf(source("{ from: db/seed.sql, driver: postgres, database: 'shop; drop' }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.database: .*letters, digits and _/));
    expect(problemsOf(source("{ from: db/seed.sql, driver: postgres, database: shop, onPush: never }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.onPush: .*keep .* or seed/));
    expect(problemsOf(source("{ from: shared/nowhere, driver: postgres, database: shop }"))).toContainEqual(`previews.web.state.from: "shared/nowhere" names no shared demo: the shared demos are try-shop, try-plain`);
    expect(problemsOf(source("{ from: shared/try-plain, driver: postgres, database: shop }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.from: .*needs a state source of kind dump under apps\.plain\.state/));
    expect(problemsOf(source("{ from: shared/try-shop, driver: mariadb, database: shop }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.driver: .*must be a driver of the same database as shared\/try-shop \(postgres\)/));
    expect(problemsOf(source("{ from: db/seed.sql, driver: postgres, database: shop, service: db }"))).toContainEqual(expect.stringMatching(/^previews\.web\.state\.service: .*must be left out/));
    expect(problemsOf(`runtime: swarm\n${source("{ from: db/seed.sql, driver: postgres, database: shop }")}`)).toContainEqual(expect.stringMatching(/^previews\.web\.state: .*is not available with runtime: swarm/));
    expect(problemsOf(`${APPS}previews:\n  web: { repo: /srv/web.git, compose: compose.yaml, route: { service: web, port: 80 }, state: { from: db/seed.sql, driver: postgres, database: shop } }\n`)).toContainEqual(expect.stringMatching(/^previews\.web\.state\.service: .*must name the service/));
  });
});

/** A seeder that records what it was asked, and what nginx was told when it was. */
function recordingSeeder(writes: () => Route[][], fail?: string) {
  const calls: Array<{ demo: string; containerId: string; load: SeedLoad; routedThen: boolean }> = [];
  const seeder: Seeder = {
    async seed(demo, containerId, load) {
      calls.push({ demo: demo.id, containerId, load, routedThen: (writes().at(-1) ?? []).some((route) => route.id === demo.id) });
      if (fail) throw new RestoreFailure(fail);
    },
  };
  return { seeder, calls };
}

const seed: PreviewSeed = { from: { kind: "file", path: "db/seed.sql" }, target: { driver: "postgres", database: "shop", timeout: 60_000 }, scrub: "scrub.sql", onPush: "keep" };
const seeded = { ...app, ttl: 86_400_000, seed };

describe("the seed step of a preview", () => {
  it("seeds a fresh preview once it answers and before nginx routes it; a push's container gets the previous one's rows", async () => {
    const writes: Route[][] = [];
    const { seeder, calls } = recordingSeeder(() => writes);
    const env = setup({ previews: { web: seeded }, seeder }, { answering: ALL_PORTS() });
    env.writes.push = (...lists: Route[][]) => Array.prototype.push.apply(writes, lists);
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img", { facts: { commit: "a".repeat(40) } });
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    const first = demo.instances[0]!.containerId!;
    expect(calls).toEqual([{ demo: "web-main", containerId: first, load: { target: seed.target, from: { kind: "file", path: "db/seed.sql" }, scrub: "scrub.sql" }, routedThen: false }]);
    expect(writes.at(-1)!.map((route) => route.id)).toContain("web-main");

    // A push: the single container's replacement gets the rows of the one it replaces, as they are (scrubbed already).
    env.engine.previews.serve("web", "web-main", "img:2", { facts: { commit: "b".repeat(40) } });
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.instances.map((instance) => instance.image)).toEqual(["img:2"]);
    expect(calls[1]).toEqual({ demo: "web-main", containerId: demo.instances[0]!.containerId!, load: { target: seed.target, from: { kind: "database", containerId: first, target: seed.target } }, routedThen: true });
    await env.engine.close();
  });

  it("fails a fresh preview whose seed does not load, in the loader's words, and never routes it", async () => {
    const writes: Route[][] = [];
    const { seeder, calls } = recordingSeeder(() => writes, 'psql failed (exit 3): ERROR:  relation "users" does not exist');
    const env = setup({ previews: { web: seeded }, seeder }, { answering: ALL_PORTS() });
    env.writes.push = (...lists: Route[][]) => Array.prototype.push.apply(writes, lists);
    await env.engine.start();
    env.engine.previews.serve("web", "web-main", "img", { facts: { commit: "a".repeat(40) } });
    await env.scheduler.runUntil(env.engine.settled());
    expect(calls).toHaveLength(1);
    expect(env.engine.get("web-main")).toBeUndefined();
    expect(env.engine.getEnded("web-main")).toMatchObject({ status: "failed", reason: 'its data could not be seeded: psql failed (exit 3): ERROR:  relation "users" does not exist' });
    expect(writes.flat().map((route) => route.id)).not.toContain("web-main");
    await env.engine.close();
  });

  it("keeps a push's replacement serving the old rows when the seed of onPush: seed fails (the old instance keeps serving)", async () => {
    const writes: Route[][] = [];
    let fail = false;
    const calls: string[] = [];
    const seeder: Seeder = {
      async seed(_demo, containerId) {
        calls.push(containerId);
        if (fail) throw new RestoreFailure("the scrub step failed: psql failed (exit 3)");
      },
    };
    const env = setup({ previews: { web: { ...seeded, seed: { ...seed, onPush: "seed" } } }, seeder }, { answering: ALL_PORTS() });
    env.writes.push = (...lists: Route[][]) => Array.prototype.push.apply(writes, lists);
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    fail = true;
    env.engine.previews.serve("web", "web-main", "img:2");
    await env.scheduler.runUntil(env.engine.settled());
    expect(calls).toHaveLength(2);
    expect(demo).toMatchObject({ status: "ready", replacement: { status: "failed", reason: "its data could not be seeded: the scrub step failed: psql failed (exit 3)" } });
    expect(demo.instances.map((instance) => instance.image)).toEqual(["img"]);
    await env.engine.close();
  });
});

describe("a restart while a preview is seeded", () => {
  it("seeds the adopted launch again: the state file says its seed was not in yet", async () => {
    let release: (error: Error) => void = () => {};
    let called: () => void = () => {};
    const seeding = new Promise<void>((resolve) => (called = resolve));
    const calls: string[] = [];
    const blocking: Seeder = {
      seed(_demo, containerId) {
        calls.push(containerId);
        called();
        return new Promise((_resolve, reject) => (release = reject));
      },
    };
    const env = setup({ previews: { web: seeded }, seeder: blocking }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img", { facts: { commit: "a".repeat(40) } });
    await env.scheduler.runUntil(seeding);
    expect(demo).toMatchObject({ status: "starting", step: "seeding" });
    const closing = env.engine.close();
    release(new Error("the controller is shutting down"));
    await closing;
    const saved = env.saved.at(-1)!;
    expect(saved.unseeded).toEqual(["web-main"]);

    const seededAgain: string[] = [];
    const next = setup({ previews: { web: seeded }, seeder: { seed: async (_demo, containerId) => void seededAgain.push(containerId) }, runtime: env.runtime, readiness: env.engine.options.readiness }, { answering: ALL_PORTS(), initial: saved });
    await next.engine.start();
    await next.scheduler.runUntil(next.engine.settled());
    expect(next.engine.get("web-main")).toMatchObject({ status: "ready" });
    expect(seededAgain).toEqual([calls[0]]);
    expect(next.saved.at(-1)!.unseeded).toBeUndefined();
    await next.engine.close();
  });
});

describe("what a seed loads", () => {
  const logger = { info: () => {}, warn: () => {}, error: () => {} };
  const demo = (overrides: Partial<Demo> = {}): Demo => ({ id: "web-pr-1", kind: "preview", app: "web", host: "web-pr-1.demo.localhost", createdAt: 0, expiresAt: 1, status: "starting", step: "seeding", instances: [], ...overrides });
  const sharedTarget = { driver: "postgres" as const, database: "shop", user: "postgres", timeout: 60_000 };
  const fromShared: PreviewSeed = { ...seed, from: { kind: "shared", name: "try-shop", target: sharedTarget } };
  const registry = (shared?: Demo) => ({ get: (id: string) => (shared && id === shared.id ? shared : undefined) }) as never;

  it("dumps a running shared demo and scrubs its rows; says so when it is not running; never for a fork nobody vouched for", () => {
    const running: Demo = { ...demo(), id: "try-shop", kind: "shared", app: "shop", status: "ready", instances: [{ id: "try-shop-1", generation: 1, image: "shop:1", containerId: "c-shared", endpoint: "127.0.0.1:1", health: "healthy" }] };
    expect(seedLoad({ logger, registry: registry(running) }, demo(), fromShared, undefined)).toEqual({ target: seed.target, from: { kind: "database", containerId: "c-shared", target: sharedTarget }, scrub: "scrub.sql" });
    expect(seedLoad({ logger, registry: registry() }, demo(), fromShared, undefined)).toBe("its data comes from the shared demo try-shop, which is not running");
    expect(seedLoad({ logger, registry: registry(running) }, demo({ withoutEnv: true }), fromShared, undefined)).toBeUndefined();
    // A fork's own seed file is its own code's: it is loaded (and scrubbed by the fork's file).
    expect(seedLoad({ logger, registry: registry() }, demo({ withoutEnv: true }), seed, undefined)).toMatchObject({ from: { kind: "file" } });
  });
});
