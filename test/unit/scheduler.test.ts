// The manual scheduler and demos' transitions: time moves only on advance(), in order; a wait resolves on the change.
import { describe, expect, it } from "vitest";
import type { Demo } from "../../src/core/model.js";
import { ManualScheduler } from "../../src/core/scheduler.js";
import { Transitions } from "../../src/core/transitions.js";
import { ALL_PORTS, setup } from "../support/engine-setup.js";

describe("the manual scheduler", () => {
  it("fires timers in order of due time, each after the work the one before woke has run", async () => {
    const scheduler = new ManualScheduler(0);
    const seen: string[] = [];
    scheduler.after(30, () => seen.push("c@30"));
    void (async () => {
      await scheduler.sleep(10);
      seen.push(`a@${scheduler.now()}`);
      // Armed by the woken work: due at 15, before c, and fired before it.
      await scheduler.sleep(5);
      seen.push(`b@${scheduler.now()}`);
    })();
    await scheduler.advance(29);
    expect(seen).toEqual(["a@10", "b@15"]);
    expect(scheduler.now()).toBe(29);
    await scheduler.advance(1);
    expect(seen).toEqual(["a@10", "b@15", "c@30"]);
    expect(scheduler.waiting).toBe(0);
  });

  it("runs a repeating timer from the end of each pass, never two at once", async () => {
    const scheduler = new ManualScheduler(0);
    const starts: number[] = [];
    let running = 0;
    const cancel = scheduler.every(100, async () => {
      starts.push(scheduler.now());
      running += 1;
      expect(running).toBe(1);
      await scheduler.sleep(50);
      running -= 1;
    });
    await scheduler.advance(500);
    expect(starts).toEqual([100, 250, 400]);
    cancel();
    await scheduler.advance(1000);
    expect(starts).toEqual([100, 250, 400]);
  });

  it("ends a sleep early when its signal aborts, and says when a task waits on nothing time can bring", async () => {
    const scheduler = new ManualScheduler(0);
    const stop = new AbortController();
    const sleeping = scheduler.sleep(60_000, stop.signal);
    stop.abort();
    await sleeping;
    expect(scheduler.now()).toBe(0);
    expect(scheduler.waiting).toBe(0);
    await expect(scheduler.runUntil(new Promise(() => {}))).rejects.toThrow("no timer is left");
  });
});

describe("transitions", () => {
  const demo = (): Demo => ({ id: "d1", kind: "visitor", app: "hello", host: "d1.demo.localhost", createdAt: 0, expiresAt: 1, status: "starting", step: "creating", instances: [] });

  it("tell every waiter of a change to a demo's status, its instances and their health; a delete of such a field throws", async () => {
    const transitions = new Transitions();
    const watched = demo();
    transitions.observe(watched);
    const counted = transitions.count;
    watched.status = "ready";
    watched.instances.push({ id: "d1-1", generation: 1, image: "img", health: "starting" });
    watched.instances[0]!.health = "healthy";
    watched.wantedImage = "img:2";
    watched.wantedImage = undefined;
    expect(transitions.count - counted).toBe(5);
    // The same value again is no change.
    watched.status = "ready";
    expect(transitions.count - counted).toBe(5);
    expect(() => delete (watched as Partial<Demo>).wantedImage).toThrow(TypeError);
    expect(JSON.parse(JSON.stringify(watched))).toMatchObject({ status: "ready", instances: [{ health: "healthy" }] });
  });

  it("resolve a wait on the change that makes it true, and undefined when its signal aborts first", async () => {
    const transitions = new Transitions();
    const watched = demo();
    transitions.observe(watched);
    const ready = transitions.until(() => (watched.status === "ready" ? "yes" : undefined));
    const stop = new AbortController();
    const never = transitions.until(() => (watched.status === "expired" ? true : undefined), stop.signal);
    watched.step = "routing";
    watched.status = "ready";
    expect(await ready).toBe("yes");
    stop.abort();
    expect(await never).toBeUndefined();
  });

  it("let a caller wait for a launch to be ready through the engine, on the manual clock", async () => {
    const { engine, scheduler } = setup({}, { answering: ALL_PORTS() });
    await engine.start();
    const { demo: launched } = await engine.launch("hello", "a");
    const ready = engine.until(launched.id, (current) => current?.status === "ready");
    expect(await scheduler.runUntil(ready)).toBe(true);
    const ended = engine.until(launched.id, (current) => current === undefined);
    await engine.stop(launched.id);
    expect(await ended).toBe(true);
    // A close ends every wait: false, not a hang.
    const { demo: other } = await engine.launch("hello", "b");
    const never = engine.until(other.id, (current) => current?.status === "expired");
    await engine.close();
    expect(await never).toBe(false);
  });
});
