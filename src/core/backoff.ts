// Exponential back-off, written once: retries of the routes file, Docker waits and the watcher's reloads use it.

export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  factor?: number;
}

/** The delay before each next try: firstMs, then growing by factor up to maxMs; reset() after a success. */
export class Backoff {
  private current: number;

  constructor(private readonly options: BackoffOptions) {
    this.current = options.firstMs;
  }

  next(): number {
    const delay = this.current;
    this.current = Math.min(this.options.maxMs, this.current * (this.options.factor ?? 2));
    return delay;
  }

  reset(): void {
    this.current = this.options.firstMs;
  }
}

/**
 * Tries `attempt` until it returns a value, sleeping with back-off between failures; gives up (undefined)
 * as soon as `stillWanted` says so. Failures are the attempt's to report.
 */
export async function retryWithBackoff<T>(attempt: () => Promise<T>, options: BackoffOptions & { sleep: (ms: number) => Promise<void>; stillWanted: () => boolean }): Promise<T | undefined> {
  const backoff = new Backoff(options);
  for (;;) {
    if (!options.stillWanted()) return undefined;
    try {
      return await attempt();
    } catch {
      await options.sleep(backoff.next());
    }
  }
}
