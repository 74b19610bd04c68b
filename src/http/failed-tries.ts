// Wrong guesses (admin tokens, demo passwords) per client in a sliding window: after `tries` of them the client waits.
/** Clients remembered at most; beyond it the longest-known goes (a flood of addresses cannot grow it without end). */
const MAX_CLIENTS = 10_000;

export class FailedTries {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly tries: number, private readonly windowMs: number) {}

  /** Seconds this client must wait before guessing again; undefined when it may guess now. */
  waitSeconds(key: string, now: number): number | undefined {
    const recent = this.within(key, now);
    return recent.length >= this.tries ? Math.ceil((recent[0]! + this.windowMs - now) / 1000) : undefined;
  }

  failed(key: string, now: number): void {
    this.recent.set(key, [...this.within(key, now), now]);
    if (this.recent.size > MAX_CLIENTS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** A right guess forgets the wrong ones. */
  succeeded(key: string): void {
    this.recent.delete(key);
  }

  private within(key: string, now: number): number[] {
    return (this.recent.get(key) ?? []).filter((at) => at > now - this.windowMs);
  }
}
