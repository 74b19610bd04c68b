// Coalescing of concurrent calls, written once: the routes publisher, the state saver and the reaper use it.

/**
 * Calls made while `work` runs share one more run after it, which takes the latest argument: a burst of
 * changes costs one extra run with the newest state, never a run per change and never a lost change.
 */
export function coalesceLatest<A, R>(work: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  let running: Promise<unknown> = Promise.resolve();
  let pending: { arg: A; promise: Promise<R> } | undefined;
  return (arg: A) => {
    if (pending) {
      pending.arg = arg;
      return pending.promise;
    }
    const entry = { arg } as { arg: A; promise: Promise<R> };
    entry.promise = running.then(() => {
      pending = undefined;
      return work(entry.arg);
    });
    pending = entry;
    running = entry.promise.catch(() => undefined);
    return entry.promise;
  };
}

/** Calls made while `work` runs share that run: a slow pass (Docker busy) never piles up behind itself. */
export function singleFlight<R>(work: () => Promise<R>): () => Promise<R> {
  let current: Promise<R> | undefined;
  return () => {
    current ??= work().finally(() => {
      current = undefined;
    });
    return current;
  };
}
