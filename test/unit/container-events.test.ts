// Unit tests of how the engine uses Docker's event stream (in memory): a crash ends a ready demo at once, a stop by a
// signal waits for the next listing (which knows whether Docker is restarting), the listing becomes a safety net.
import { describe, expect, it } from "vitest";
import type { ContainerEvents } from "../../src/core/runtime.js";
import { ALL_PORTS, setup } from "../support/engine-setup.js";

/** The in-memory runtime with an event stream the test drives. */
function withEvents() {
  const env = setup({}, { answering: ALL_PORTS() });
  let listener: ContainerEvents | undefined;
  let listings = 0;
  const list = env.runtime.list.bind(env.runtime);
  Object.assign(env.runtime, {
    watchContainers: (_namespace: string, events: ContainerEvents) => {
      listener = events;
      events.opened();
      return () => (listener = undefined);
    },
    list: (namespace: string) => {
      listings += 1;
      return list(namespace);
    },
  });
  return { ...env, events: () => listener!, listings: () => listings };
}

describe("Docker's event stream", () => {
  it("ends a ready demo whose app crashed at the event, before any listing", async () => {
    const env = withEvents();
    await env.engine.start();
    const { demo } = await env.engine.launch("hello", "a");
    await env.settled();
    // The first pass after the stream opened lists everything once; from then on the listing waits minutes.
    await env.scheduler.runUntil(env.engine.reapTick());
    const listed = env.listings();
    const containerId = demo.instances[0]!.containerId!;
    env.runtime.halt(containerId, 1);
    env.events().stopped(containerId, "died");
    await env.settled();
    expect(env.engine.get(demo.id)).toBeUndefined();
    expect(env.engine.getEnded(demo.id)).toMatchObject({ status: "failed", reason: "the app stopped unexpectedly" });
    expect(env.writes.at(-1)!.map((route) => route.id)).toEqual([]);
    expect(env.listings()).toBe(listed);
  });

  it("leaves a stop by a signal to the next listing, which starts the demo again when Docker was restarting", async () => {
    const env = withEvents();
    await env.engine.start();
    const { demo } = await env.engine.launch("hello", "a");
    await env.settled();
    await env.scheduler.runUntil(env.engine.reapTick());
    const listed = env.listings();
    const containerId = demo.instances[0]!.containerId!;
    // What a daemon going down does: SIGTERM to every container, then the stream breaks.
    env.runtime.halt(containerId, 143);
    env.events().stopped(containerId, "died");
    await env.settled();
    expect(env.engine.get(demo.id)!.status).toBe("ready");
    env.events().lost();
    await env.scheduler.runUntil(env.engine.reapTick());
    await env.settled();
    expect(env.listings()).toBeGreaterThan(listed);
    expect(env.runtime.containers.get(containerId)!.state).toBe("running");
    expect(env.engine.get(demo.id)!.status).toBe("ready");
  });
});
