// Fairness rules, pure and clock-free: a sliding-window launch rate per client, and wait estimates for the line.

/** Remembers each client's recent launches; `now` is passed in so tests need no clock. */
export class LaunchRateLimiter {
  private readonly launches = new Map<string, number[]>();

  constructor(private readonly maxLaunches: number, private readonly windowMs: number) {}

  /** Seconds until this client may launch again; 0 when it may launch now. */
  retryAfterSeconds(client: string, now: number, maxLaunches = this.maxLaunches): number {
    const recent = this.recent(client, now);
    if (recent.length < maxLaunches) return 0;
    if (maxLaunches < recent.length) return Math.max(1, Math.ceil((recent[recent.length - maxLaunches]! + this.windowMs - now) / 1000));
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
  }

  record(client: string, now: number): void {
    const recent = this.recent(client, now);
    recent.push(now);
    this.launches.set(client, recent);
  }

  private recent(client: string, now: number): number[] {
    const recent = (this.launches.get(client) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length === 0) this.launches.delete(client);
    else this.launches.set(client, recent);
    return recent;
  }

  /** Drops clients with no launch in the window, so memory follows the active visitors only. */
  prune(now: number): void {
    for (const client of [...this.launches.keys()]) this.recent(client, now);
  }
}

/**
 * When the visitor at `position` (1 = next) in line may expect a slot: the position-th expiry among
 * the running demos; past the running count, slots turn over again after a full time box.
 */
export function estimateWaitMs(runningExpiries: readonly number[], position: number, ttlMs: number, now: number): number {
  const sorted = [...runningExpiries].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const index = (position - 1) % sorted.length;
  const rounds = Math.floor((position - 1) / sorted.length);
  return Math.max(0, sorted[index]! + rounds * ttlMs - now);
}
