// When the certificate is ordered again: at `renewBefore` its end, at once when there is none, and after a failure
// with a back-off that still leaves tries before the end (the old certificate serves meanwhile).

/** After a failed order: 1 min, doubling, 6 h at most (Let's Encrypt allows 5 failed validations an hour per name). */
export const RETRY_FIRST_MS = 60_000;
export const RETRY_MAX_MS = 6 * 3_600_000;

export interface RenewalFacts {
  now: number;
  /** The installed certificate's end; undefined when none is installed. */
  notAfter?: number;
  renewBeforeMs: number;
  /** Orders failed in a row since the last success. */
  failures: number;
}

/** The moment of the next order (never in the past: a due one is now). */
export function nextOrderAt(facts: RenewalFacts): number {
  const { now, notAfter, renewBeforeMs, failures } = facts;
  if (failures > 0) {
    const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 30));
    // Near the end the waits shrink: a try an hour before it still beats none at all.
    const lastChance = notAfter !== undefined ? notAfter - 3_600_000 : Number.POSITIVE_INFINITY;
    return Math.max(now, Math.min(now + wait, Math.max(now + RETRY_FIRST_MS, lastChance)));
  }
  if (notAfter === undefined) return now;
  return Math.max(now, notAfter - renewBeforeMs);
}

/**
 * What doctor and the console say of the certificate's end: nothing while there is time, a warning once half of the
 * renewal window went by without a renewal (renewals have been failing for a while), and after its end.
 */
export function expiryWarning(now: number, notAfter: number | undefined, renewBeforeMs: number): string | undefined {
  if (notAfter === undefined) return undefined;
  if (now >= notAfter) return `the certificate ended at ${new Date(notAfter).toISOString()}: visitors see a browser warning`;
  if (notAfter - now <= renewBeforeMs / 2) return `the certificate ends at ${new Date(notAfter).toISOString()}, in ${Math.ceil((notAfter - now) / 86_400_000)} day(s), and has not been renewed`;
  return undefined;
}
