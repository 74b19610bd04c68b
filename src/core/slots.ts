// A fixed number of slots for work a shared resource does best a few at a time (Docker's container starts), first come first served.

export type SlotPriority = "now" | "later";

export class Slots {
  private running = 0;
  /** Waiting work by priority: a visitor's start goes before a container created ahead of need. */
  private readonly waiting: Record<SlotPriority, Array<() => void>> = { now: [], later: [] };

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>, priority: SlotPriority = "now"): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    else this.running += 1;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so nobody can slip in between.
      const next = this.waiting.now.shift() ?? this.waiting.later.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Work waiting for a slot (for metrics and the console). */
  get queued(): number {
    return this.waiting.now.length + this.waiting.later.length;
  }
}
