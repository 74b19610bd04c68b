// kill -9 of the controller during launches, then a restart: no orphan, no stale route, every ready demo served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appYaml } from "../support/apps.js";
import { launchAndWait, namespaceContainers, type Stack, startStack, untilPast, waitFor } from "../support/stack.js";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { readFile } from "node:fs/promises";
import path from "node:path";

describe("restart safety (real controller process, real Docker, real nginx)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      controller: "child",
      appsYaml: [appYaml("hello", { timeout: "30s" }), appYaml("slow", { env: { START_DELAY: "2" }, timeout: "30s" }), appYaml("brief", { ttl: "4s" }), appYaml("ahead", { extra: ["prepared: 2"] })].join("\n"),
    });
  });
  afterAll(async () => stack?.close());

  /** The containers created ahead for `ahead` (created, never started), by id. */
  const stock = async () => (await namespaceContainers(stack.docker, stack.namespace)).filter((info) => info.Labels["demo-launcher.prepared"] === "true" && info.State === "created");
  /**
   * Two made and held by the controller: Docker lists a container from its create on, the controller hands it to a
   * launch only once the making is done (a launch in between is a cold one: CI saw one start another container).
   */
  const stockOfTwo = async () => JSON.parse((await stack.api("GET", "/api/status")).body).prepared.ahead.ready === 2 && (await stock()).length === 2;

  it("loses nothing when the controller is killed with SIGKILL in the middle of launches", async () => {
    // Two containers created ahead; a launch of that app starts one of them (the same container, its demo's id).
    await waitFor("two containers created ahead", stockOfTwo, 30_000, 100);
    const aheadIds = (await stock()).map((info) => info.Id);
    const ahead = await launchAndWait(stack, "ahead");
    const aheadContainer = (await namespaceContainers(stack.docker, stack.namespace)).find((info) => info.Labels["demo-launcher.id"] === ahead.id)!;
    expect(aheadIds).toContain(aheadContainer.Id);
    expect(aheadContainer.State).toBe("running");
    await waitFor("the stock to be made up again", stockOfTwo, 30_000, 100);
    const stockBefore = (await stock()).map((info) => info.Id).sort();
    const ready = [await launchAndWait(stack, "hello"), await launchAndWait(stack, "hello"), ahead];
    const brief = await launchAndWait(stack, "brief");
    for (const demo of ready) expect((await stack.viaNginx(demo.host, "/")).body).toContain("Hello guestbook");
    // Sign a guestbook: the visitor's state must survive the controller's death.
    await stack.viaNginx(ready[0]!.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "message=still+here" });

    // Launches in flight at the moment of the kill: some created, some starting.
    const inFlight = await Promise.all(["slow", "slow", "hello", "hello"].map(async (app) => JSON.parse((await stack.api("POST", "/api/demos", { app })).body).id as string));
    // The kill lands while they are under way: once Docker has a container of one of them.
    await waitFor("a container of a launch in flight", async () => (await namespaceContainers(stack.docker, stack.namespace)).some((info) => inFlight.includes(info.Labels["demo-launcher.id"] ?? "")), 20_000, 20);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});

    // While it is down, nginx keeps serving the ready demos.
    for (const demo of ready) expect((await stack.viaNginx(demo.host, "/")).status).toBe(200);
    // Let the brief demo's time box pass while nobody reaps.
    await untilPast(Date.parse(brief.expiresAt!));

    await stack.startChild();

    // Ready demos are served at once after the restart, with their state.
    for (const demo of ready) expect((await stack.viaNginx(demo.host, "/")).status).toBe(200);
    expect((await stack.viaNginx(ready[0]!.host, "/")).body).toContain("<li>still here</li>");

    // The overdue demo is reaped and its host says expired.
    await waitFor("the overdue demo to be reaped", async () => (await stack.viaNginx(brief.host, "/")).status === 410, 30_000);

    // Every launch that was in flight ends ready or was removed: nothing half-made remains.
    const settled = await waitFor("in-flight launches to settle", async () => {
      const views = await Promise.all(inFlight.map(async (id) => {
        const answer = await stack.api("GET", `/api/demos/${id}`);
        return answer.status === 200 ? (JSON.parse(answer.body) as { id: string; status: string; host: string }) : { id, status: "unknown", host: "" };
      }));
      return views.every((view) => view.status !== "starting") ? views : undefined;
    }, 40_000);

    // The containers created ahead are the same ones, still not started: an adoption never starts them.
    expect((await stock()).map((info) => info.Id).sort()).toEqual(stockBefore);
    expect(JSON.parse((await stack.api("GET", "/api/status")).body).prepared).toEqual({ ahead: { ready: 2, creating: 0 } });
    const containers = (await namespaceContainers(stack.docker, stack.namespace)).filter((info) => !stockBefore.includes(info.Id));
    const live = JSON.parse((await stack.api("GET", "/api/demos")).body).demos as Array<{ id: string; status: string; host: string }>;
    // No orphan: every other container belongs to a live demo the controller knows, and is running.
    expect(containers.map((info) => info.Labels["demo-launcher.id"]).sort()).toEqual(live.map((demo) => demo.id).sort());
    expect(containers.every((info) => info.State === "running")).toBe(true);
    for (const demo of ready) expect(live.map((entry) => entry.id)).toContain(demo.id);
    for (const view of settled) expect(["ready", "failed", "unknown"]).toContain(view.status);

    // No stale route: the routes file holds exactly the ready demos and the containers created ahead (behind the
    // starting gate: nginx asks the controller, which knows no demo there).
    const routes = parseRoutesFile(await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8"));
    const stockHosts = (await stock()).map((info) => info.Labels["demo-launcher.host"]!);
    expect([...routes.hosts].sort()).toEqual([...live.filter((demo) => demo.status === "ready").map((demo) => demo.host), ...stockHosts].sort());
    for (const host of stockHosts) expect((await stack.viaNginx(host, "/")).status).toBe(404);
    for (const demo of live) expect((await stack.viaNginx(demo.host, "/")).body).toContain("Hello guestbook");
  });
});
