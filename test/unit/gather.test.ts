// Unit tests of how launches that answer together are routed together (few nginx reloads in a burst), in-memory.
import { describe, expect, it } from "vitest";
import type { Demo } from "../../src/core/model.js";
import { portOf, setup } from "../support/engine-setup.js";

const until = async (what: string, check: () => boolean) => {
  for (let tries = 0; tries < 2000; tries += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const limits = { maxDemos: 5, perClient: 1, queueLength: 0, launchesPerClient: 3, launchWindow: 600_000 };

describe("routing launches that answer while others still start", () => {
  it("holds demos that answered while another starts out of every write, then routes them all in one", async () => {
    // Time stands still: only the launches' own progress can end the gathering.
    const { engine, writes, answering } = setup({ limits, sleep: () => new Promise((resolve) => setTimeout(resolve, 1)) });
    await engine.start();
    const demos: Demo[] = [];
    for (const client of ["a", "b", "c"]) demos.push((await engine.launch("hello", client)).demo);
    await until("three containers", () => demos.every((demo) => portOf(engine.get(demo.id)) > 0));
    const [first, second, third] = demos as [Demo, Demo, Demo];
    answering.add(portOf(first));
    answering.add(portOf(second));
    await until("the first two to answer", () => engine.get(first.id)?.step === "routing" && engine.get(second.id)?.step === "routing");
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Waiting for the third; a write by anyone else meanwhile (the reaper's) leaves them out.
    expect([first, second].map((demo) => engine.get(demo.id)?.status)).toEqual(["starting", "starting"]);
    await engine.publishRoutes();
    expect(writes.some((write) => write.length > 0)).toBe(false);
    // The last one answers: nobody is left to wait for, and one write routes all three.
    const writesBefore = writes.length;
    answering.add(portOf(third));
    await engine.idle();
    expect(demos.map((demo) => engine.get(demo.id)?.status)).toEqual(["ready", "ready", "ready"]);
    // Every write since holds all three (the later ones rewrite the same routes: the same file, no reload).
    const since = writes.slice(writesBefore);
    expect(since.length).toBeGreaterThan(0);
    for (const write of since) expect(write.map((route) => route.id).sort()).toEqual(demos.map((demo) => demo.id).sort());
    expect(engine.currentGeneration()).toBe(9); // 7 on disk, 8 written at start (empty), 9 with all three
  });

  it("routes a demo after a bounded wait when another launch never answers", async () => {
    const { engine, writes, answering } = setup({ limits });
    await engine.start();
    const answers = (await engine.launch("hello", "a")).demo;
    const silent = (await engine.launch("hello", "b")).demo;
    await until("two containers", () => portOf(engine.get(answers.id)) > 0 && portOf(engine.get(silent.id)) > 0);
    answering.add(portOf(answers));
    await until("the answering one to be ready", () => engine.get(answers.id)?.status === "ready");
    expect(writes.at(-1)!.map((route) => route.id)).toEqual([answers.id]);
    expect(engine.get(silent.id)?.status).toBe("starting");
  });
});
