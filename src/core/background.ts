// The engine's background work: flows it tracks until they settle, sleeps that end at a close, and the two steps
// of stopping (a shutdown that refuses new containers, then the close that ends every wait).
import { setMaxListeners } from "node:events";
import { describeError } from "./errors.js";
import type { Logger } from "./app-spec.js";
import type { Scheduler } from "./scheduler.js";

export class BackgroundWork {
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly closing = new AbortController();
  private readonly sleepers = new Set<() => void>();
  private isClosed = false;
  private isShuttingDown = false;

  constructor(private readonly scheduler: Scheduler, private readonly logger: Logger) {
    // Every wait of a background flow listens for the close: hundreds at once in a burst are expected, not a leak.
    setMaxListeners(Number.POSITIVE_INFINITY, this.closing.signal);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get shuttingDown(): boolean {
    return this.isShuttingDown || this.isClosed;
  }

  /** Aborts at the close: every wait of a flow listens to it. */
  get stopping(): AbortSignal {
    return this.closing.signal;
  }

  /** True while a tracked flow runs. */
  get busy(): boolean {
    return this.tasks.size > 0;
  }

  /**
   * The first step of a shutdown, before demos are removed: from now on nothing creates a container (a supervisor
   * topping up a shared demo would otherwise start a replica under the name of one being removed).
   */
  beginShutdown(): void {
    this.isShuttingDown = true;
  }

  /** Ends every sleep and wait; resolves once every tracked flow has ended. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.closing.abort();
    for (const wake of [...this.sleepers]) wake();
    await Promise.allSettled([...this.tasks]);
  }

  /** Runs a flow in the background; a failure is logged, never thrown at nobody. */
  track(task: Promise<unknown>): void {
    const guarded = task.catch((error) => this.logger.error(`background task failed: ${describeError(error)}`));
    this.tasks.add(guarded);
    void guarded.finally(() => this.tasks.delete(guarded));
  }

  /** Waits until no tracked flow runs (one may start another: waited for too). */
  async settled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /**
   * Ends early when `signal` aborts or the work closes (a flow's loop then sees `closed`). Sleepers are kept in a
   * set, not as listeners of one signal: a burst has hundreds asleep at once, each waking every 20 ms.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.isClosed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        this.sleepers.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      const cancel = this.scheduler.after(ms, wake, { keepAlive: true });
      this.sleepers.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }
}
