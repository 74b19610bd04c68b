// Asks nginx which routes generation it serves: served once it and its workers hold a generation, refused when the
// watcher refused the file, timeout otherwise.
import { httpGet } from "../probe/http.js";
import type { RouteConfirmation } from "../core/runtime.js";
import type { Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

export type GenerationConfirmer = (generation: number, timeoutMs: number) => Promise<RouteConfirmation>;

/** The generation nginx serves, and which of its workers answered (its $pid; absent from an older locations file). */
export interface ServedGeneration {
  generation: number;
  worker?: number;
}

export async function readServedGeneration(probeUrl: string, host?: string): Promise<ServedGeneration | undefined> {
  const result = await httpGet(new URL("/__demo/generation", probeUrl).toString(), { timeoutMs: 1000, ...(host ? { host } : {}) });
  if (!result || result.status !== 200 || !/^\d+$/.test(result.body.trim())) return undefined;
  const worker = Number(result.headers["x-demo-launcher-worker"]);
  return { generation: Number(result.body.trim()), ...(Number.isInteger(worker) && worker > 0 ? { worker } : {}) };
}

/**
 * After a reload of the same routes (the watcher's first apply, which reloads whatever nginx holds): resolves true
 * once a worker other than `before` answers and no older worker takes connections, false after `timeoutMs`. A
 * request sent meanwhile could meet a worker that is closing its idle connections.
 */
export async function untilReloaded(probeUrl: string, host: string, before: number | undefined, olderWorkersRetired: (worker: number) => Promise<boolean | undefined>, scheduler: Scheduler = systemScheduler, timeoutMs = 10_000): Promise<boolean> {
  const deadline = scheduler.now() + timeoutMs;
  while (scheduler.now() < deadline) {
    const served = await readServedGeneration(probeUrl, host);
    if (served?.worker !== undefined && served.worker !== before && (await olderWorkersRetired(served.worker).catch(() => undefined)) !== false) return true;
    await scheduler.sleep(12);
  }
  return false;
}

export interface ConfirmerOptions {
  /** Whether the watcher refused this generation's file: waiting longer cannot help then. */
  rejected?: (generation: number) => Promise<boolean>;
  /** Whether the workers older than the one that answered have stopped accepting (undefined: cannot tell). */
  olderWorkersRetired?: (worker: number) => Promise<boolean | undefined>;
  /** Time for the readings and the time limit; the system scheduler by default. */
  scheduler?: Scheduler;
}

/**
 * Asks nginx itself which generation it serves, until it serves this one or a later one and no worker of an
 * older configuration still takes connections. One poll loop serves every launch waiting at the time: a burst
 * of 50 asks nginx once per tick, not 50 times.
 */
export function nginxRouteConfirmer(probeUrl: string, host: string, options: ConfirmerOptions = {}): GenerationConfirmer {
  const scheduler = options.scheduler ?? systemScheduler;
  const waiters = new Set<(served: ServedGeneration | undefined, olderRetired: () => Promise<boolean | undefined>) => void>();
  let polling = false;
  const poll = async () => {
    polling = true;
    try {
      while (waiters.size > 0) {
        const served = await readServedGeneration(probeUrl, host);
        // Looked at once per reading, when a waiter asks: a burst of 50 waiting launches reads /proc once, not 50 times.
        let retired: Promise<boolean | undefined> | undefined;
        const olderRetired = () =>
          (retired ??= served?.worker !== undefined && options.olderWorkersRetired ? options.olderWorkersRetired(served.worker).catch(() => undefined) : Promise.resolve(undefined));
        for (const waiter of [...waiters]) waiter(served, olderRetired);
        // Four readings spread over ≈ 50 ms: where the workers cannot be seen, an old one can take that long to stop accepting.
        // nginx tells no one when it has reloaded: its answers are the only way to know.
        await scheduler.sleep(12);
      }
    } finally {
      polling = false;
    }
  };
  return (generation, timeoutMs) =>
    new Promise<RouteConfirmation>((resolve) => {
      // Right after a reload the old workers may still accept a connection or two: only several answers
      // in a row from the new configuration, and every older worker retired where that can be seen,
      // mean every new connection gets it.
      let inARow = 0;
      let checking = false;
      let lookingAtWorkers = false;
      const onReading = (served: ServedGeneration | undefined, olderRetired: () => Promise<boolean | undefined>) => {
        inARow = served !== undefined && served.generation >= generation ? inARow + 1 : 0;
        if (inARow < 4 || lookingAtWorkers) return;
        // Undefined (the workers cannot be seen from here) leaves it to the probes, as before.
        lookingAtWorkers = true;
        void olderRetired()
          .then((retired) => retired !== false && finish("served"))
          .finally(() => (lookingAtWorkers = false));
      };
      const cancelTimer = scheduler.after(timeoutMs, () => finish("timeout"), { keepAlive: true });
      // Once the watcher has refused this file, waiting longer cannot help.
      const cancelRejectionCheck = options.rejected
        ? scheduler.every(250, () => {
            if (checking) return;
            checking = true;
            return options.rejected!(generation).then((refused) => refused && finish("refused"), () => undefined).finally(() => (checking = false));
          })
        : undefined;
      let finished = false;
      function finish(result: RouteConfirmation) {
        if (finished) return;
        finished = true;
        waiters.delete(onReading);
        cancelTimer();
        cancelRejectionCheck?.();
        resolve(result);
      }
      waiters.add(onReading);
      if (!polling) void poll();
    });
}
