// Unit tests of the watcher's debounce on the manual scheduler: at once after quiet, coalesced close behind, bounded.
import { describe, expect, it } from "vitest";
import { Debounce } from "../../src/core/routing/debounce.js";
import { ManualScheduler } from "../../src/core/scheduler.js";

function debounced(quietMs = 100, maxWaitMs = 1000) {
  const scheduler = new ManualScheduler(1_000_000);
  const runs: number[] = [];
  let busy = false;
  const debounce = new Debounce(scheduler, { quietMs, maxWaitMs, busy: () => busy, run: () => runs.push(scheduler.now()) });
  return { scheduler, runs, debounce, setBusy: (value: boolean) => (busy = value) };
}

describe("the debounce", () => {
  it("runs the first poke after a quiet spell at once, and pokes close behind together after the quiet time", async () => {
    const { scheduler, runs, debounce } = debounced();
    debounce.poke();
    await scheduler.advance(5);
    expect(runs).toEqual([1_000_005]);
    debounce.ran();
    await scheduler.advance(10);
    debounce.poke();
    await scheduler.advance(50);
    debounce.poke();
    await scheduler.advance(99);
    expect(runs).toHaveLength(1);
    await scheduler.advance(1);
    expect(runs).toEqual([1_000_005, 1_000_165]);
  });

  it("never lets a steady stream of pokes hold a run back past the longest wait", async () => {
    const { scheduler, runs, debounce, setBusy } = debounced(100, 300);
    setBusy(true);
    for (let i = 0; i < 10; i += 1) {
      debounce.poke();
      await scheduler.advance(50);
    }
    expect(runs).toEqual([1_000_300]);
  });

  it("runs nothing once stopped", async () => {
    const { scheduler, runs, debounce } = debounced();
    debounce.poke();
    debounce.stop();
    debounce.poke();
    await scheduler.advance(10_000);
    expect(runs).toEqual([]);
  });
});
