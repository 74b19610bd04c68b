// Unit tests of the routes edge's contract: publish → generation, confirm → served | refused | timeout, the fallback
// that follows a refusal inside the publisher, and the engine treating a refusal as a lasting fault (no retry).
import { describe, expect, it } from "vitest";
import type { Route } from "../../src/core/routing/routes.js";
import type { RouteConfirmation } from "../../src/core/runtime.js";
import { silentLogger } from "../../src/logger.js";
import { RoutesFilePublisher } from "../../src/nginx/route-publisher.js";
import { ALL_PORTS, setup } from "../support/engine-setup.js";

const route = (id: string): Route => ({ id, host: `${id}.demo.localhost`, backends: ["127.0.0.1:9"] });

function publisherWith(answers: (generation: number) => RouteConfirmation, fallback?: (generation: number) => Promise<boolean>) {
  const written: number[] = [];
  const asked: number[] = [];
  const publisher = new RoutesFilePublisher(
    { readCurrent: async () => ({ generation: 3, backends: new Map() }), write: async (_routes, generation) => written.push(generation) > 0 },
    async (generation) => {
      asked.push(generation);
      return answers(generation);
    },
    silentLogger,
    fallback,
  );
  return { publisher, written, asked };
}

describe("the routes publisher", () => {
  it("writes the same routes once and a change under the next generation", async () => {
    const { publisher, written } = publisherWith(() => "served");
    await publisher.load();
    expect(await publisher.publish(() => [route("a")])).toBe(4);
    expect(await publisher.publish(() => [route("a")])).toBe(4);
    expect(await publisher.publish(() => [route("a"), route("b")])).toBe(5);
    expect(written).toEqual([4, 4, 5]);
  });

  it("after a refusal it can help (the operator's template set aside), writes the routes again as a new generation and waits for that", async () => {
    const refusedOnce: number[] = [];
    const { publisher, written, asked } = publisherWith(
      (generation) => (generation === 4 ? "refused" : "served"),
      async (generation) => refusedOnce.push(generation) > 0,
    );
    await publisher.load();
    const generation = await publisher.publish(() => [route("a")]);
    expect(await publisher.confirm(generation, 1000)).toBe("served");
    expect(refusedOnce).toEqual([4]);
    expect(written).toEqual([4, 5]);
    expect(asked).toEqual([4, 5]);
  });

  it("answers refused when nothing it can do helps, without writing again", async () => {
    const { publisher, written } = publisherWith(() => "refused", async () => false);
    await publisher.load();
    const generation = await publisher.publish(() => [route("a")]);
    expect(await publisher.confirm(generation, 1000)).toBe("refused");
    expect(written).toEqual([4]);
  });
});

describe("the engine and a refusing nginx", () => {
  it("does not publish again for a refusal, reports it once for several launches, and its end once", async () => {
    let refusing = true;
    const env = setup({ limits: { maxDemos: 3, perClient: 1, queueLength: 0, launchesPerClient: 3, launchWindow: 600_000 } }, { answering: ALL_PORTS(), confirm: async () => (refusing ? "refused" : "served") });
    await env.engine.start();
    const first = (await env.engine.launch("hello", "a")).demo;
    await env.scheduler.runUntil(env.engine.settled());
    const writesAfterFirst = env.writes.length;
    const second = (await env.engine.launch("hello", "b")).demo;
    await env.scheduler.runUntil(env.engine.settled());
    // As before a refusal: the demos are ready (the routes nginx serves are its last good ones), the fault is logged.
    expect([first, second].map((demo) => env.engine.get(demo.id)?.status)).toEqual(["ready", "ready"]);
    const refusals = env.logged.filter((line) => line.includes("nginx refused routes generation"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/^error demo /);
    // One launch writes its route twice: behind the starting gate, then (that write refused) once it answers; a
    // refusal is not followed by another write of the same routes.
    expect(env.writes.length - writesAfterFirst).toBe(2);
    refusing = false;
    await env.engine.launch("hello", "c");
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.logged.filter((line) => line.includes("nginx serves the routes again"))).toHaveLength(1);
  });
});
