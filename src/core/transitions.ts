// Makes a demo's transitions observable: a wait for "ready", "replacement settled" or "ended" resolves on the change
// that brings it, not on a poll of shared state. A demo in the registry tells of every change to the fields below.
import type { Demo, Instance } from "./model.js";

/** The fields whose changes flows wait for; anything else on a demo is plain data. */
const DEMO_FIELDS = ["status", "step", "replacement", "wantedImage"] as const;
const INSTANCE_FIELDS = ["health", "endpoint"] as const;
const OBSERVED = Symbol("observed");

type Waiter = () => void;

export class Transitions {
  private readonly waiters = new Set<Waiter>();
  /** Counts changes: a reader that remembers it can tell whether anything moved since. */
  private changes = 0;

  get count(): number {
    return this.changes;
  }

  /** Something observable changed: every waiter checks its condition again. */
  notify(): void {
    this.changes += 1;
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Resolves with what `check` answers once it answers something other than undefined: checked now and after every
   * change. Resolves undefined when `signal` aborts first.
   */
  until<T>(check: () => T | undefined, signal?: AbortSignal): Promise<T | undefined> {
    const first = check();
    if (first !== undefined || signal?.aborted) return Promise.resolve(first);
    return new Promise((resolve) => {
      const finish = (value: T | undefined) => {
        this.waiters.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const waiter = () => {
        const value = check();
        if (value !== undefined) finish(value);
      };
      const onAbort = () => finish(undefined);
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Resolves at the next change (or when `signal` aborts): for a flow that must look again once anything moved. */
  next(signal?: AbortSignal): Promise<void> {
    const seen = this.changes;
    return this.until(() => (this.changes !== seen ? true : undefined), signal).then(() => undefined);
  }

  /** Turns the demo's observed fields (and its instances') into ones that tell this of every change; idempotent. */
  observe(demo: Demo): void {
    if ((demo as unknown as Record<symbol, unknown>)[OBSERVED]) return;
    Object.defineProperty(demo, OBSERVED, { value: true, enumerable: false });
    for (const field of DEMO_FIELDS) this.watchField(demo as unknown as Record<string, unknown>, field);
    let instances = this.observeInstances(demo.instances);
    Object.defineProperty(demo, "instances", {
      enumerable: true,
      // Not configurable: a `delete` of an observed field would silently end its observation, so it throws instead.
      configurable: false,
      get: () => instances,
      set: (value: Instance[]) => {
        instances = this.observeInstances(value);
        this.notify();
      },
    });
  }

  private observeInstances(list: Instance[]): Instance[] {
    for (const instance of list) this.observeInstance(instance);
    if (!Object.prototype.hasOwnProperty.call(list, "push")) {
      const push = Array.prototype.push;
      Object.defineProperty(list, "push", {
        enumerable: false,
        value: (...added: Instance[]) => {
          for (const instance of added) this.observeInstance(instance);
          const length = push.apply(list, added);
          this.notify();
          return length;
        },
      });
    }
    return list;
  }

  private observeInstance(instance: Instance): void {
    if ((instance as unknown as Record<symbol, unknown>)[OBSERVED]) return;
    Object.defineProperty(instance, OBSERVED, { value: true, enumerable: false });
    for (const field of INSTANCE_FIELDS) this.watchField(instance as unknown as Record<string, unknown>, field);
  }

  private watchField(target: Record<string, unknown>, field: string): void {
    // An absent optional field reads undefined here too, and stays out of JSON until it is set.
    let value = target[field];
    Object.defineProperty(target, field, {
      enumerable: true,
      configurable: false,
      get: () => value,
      set: (next: unknown) => {
        if (next === value) return;
        value = next;
        this.notify();
      },
    });
  }
}
