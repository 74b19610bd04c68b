// Unit tests of how launches that answer together are routed together (few nginx reloads in a burst), in-memory.
import { describe, expect, it } from "vitest";
import type { Demo } from "../../src/core/model.js";
import { portOf, setup } from "../support/engine-setup.js";

type Env = ReturnType<typeof setup>;

/** Moves time from timer to timer until the demo is where `check` says (the readiness probes poll on the scheduler). */
const until = (env: Env, id: string, check: (demo: Demo | undefined) => boolean) => env.scheduler.runUntil(env.engine.until(id, check));

const limits = { maxDemos: 5, perClient: 1, queueLength: 0, launchesPerClient: 3, launchWindow: 600_000 };

// Launches routed only once they answer (routeEarly: false; previews with a seed, demos adopted mid-launch).
describe("routing launches that answer while others still start", () => {
  it("holds demos that answered while another starts out of every write, then routes them all in one", async () => {
    const env = setup({ limits, routeEarly: false });
    const { engine, writes, answering, scheduler } = env;
    await engine.start();
    const demos: Demo[] = [];
    for (const client of ["a", "b", "c"]) demos.push((await engine.launch("hello", client)).demo);
    await scheduler.settle();
    expect(demos.every((demo) => portOf(engine.get(demo.id)) > 0)).toBe(true);
    const [first, second, third] = demos as [Demo, Demo, Demo];
    answering.add(portOf(first));
    answering.add(portOf(second));
    // Their next probe (20 ms on) answers; the gathering window (300 ms from the last write) is still open.
    await until(env, first.id, (demo) => demo?.step === "routing");
    await until(env, second.id, (demo) => demo?.step === "routing");
    // Waiting for the third; a write by anyone else meanwhile (the reaper's) leaves them out.
    expect([first, second].map((demo) => engine.get(demo.id)?.status)).toEqual(["starting", "starting"]);
    await engine.publishRoutes();
    expect(writes.some((write) => write.length > 0)).toBe(false);
    // The last one answers: nobody is left to wait for, and one write routes all three.
    const writesBefore = writes.length;
    answering.add(portOf(third));
    await scheduler.runUntil(engine.settled());
    expect(demos.map((demo) => engine.get(demo.id)?.status)).toEqual(["ready", "ready", "ready"]);
    // Every write since holds all three (the later ones rewrite the same routes: the same file, no reload).
    const since = writes.slice(writesBefore);
    expect(since.length).toBeGreaterThan(0);
    for (const write of since) expect(write.map((route) => route.id).sort()).toEqual(demos.map((demo) => demo.id).sort());
    expect(engine.currentGeneration()).toBe(9); // 7 on disk, 8 written at start (empty), 9 with all three
  });

  it("routes a demo after a bounded wait when another launch never answers", async () => {
    const env = setup({ limits, routeEarly: false });
    const { engine, writes, answering, scheduler } = env;
    await engine.start();
    const answers = (await engine.launch("hello", "a")).demo;
    const silent = (await engine.launch("hello", "b")).demo;
    await scheduler.settle();
    expect(portOf(engine.get(answers.id)) > 0 && portOf(engine.get(silent.id)) > 0).toBe(true);
    answering.add(portOf(answers));
    await until(env, answers.id, (demo) => demo?.status === "ready");
    expect(writes.at(-1)!.map((route) => route.id)).toEqual([answers.id]);
    expect(engine.get(silent.id)?.status).toBe("starting");
  });
});
