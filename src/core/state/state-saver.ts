// Saves the registry's snapshot to the state store, coalesced, reporting a failing disk once and its recovery once.
import { describeError, LastingFault } from "../errors.js";
import type { Logger } from "../app-spec.js";
import type { DemoRegistry } from "../registry.js";
import type { StateStore } from "../runtime.js";
import { coalesceLatest } from "../single-flight.js";

export class StateSaver {
  private readonly fault = new LastingFault();
  private last: Promise<void> = Promise.resolve();
  // The snapshot is taken when the write runs, so a burst of changes costs one write with the latest state.
  private readonly write = coalesceLatest(async () => {
    try {
      await this.store.save(this.registry.snapshot());
      if (this.fault.clear() !== undefined) this.logger.info("the state file is written again");
    } catch (error) {
      // A full disk fails every save: say so once, and once more when it passes.
      const message = describeError(error);
      if (this.fault.record(message)) this.logger.error(`saving the state file failed: ${message}; retrying`);
    }
  });

  constructor(private readonly store: StateStore, private readonly registry: DemoRegistry, private readonly logger: Logger) {}

  /** Schedules a save; the promise settles once a save that includes every change so far has run. */
  save(): Promise<void> {
    this.last = this.write(undefined);
    return this.last;
  }

  /** True while saves fail (the reaper retries then, even when nothing changes). */
  get failing(): boolean {
    return this.fault.active;
  }

  /** Waits for the saves scheduled so far. */
  flushed(): Promise<void> {
    return this.last;
  }
}
