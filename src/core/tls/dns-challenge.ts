// What an ACME DNS-01 challenge needs of DNS: a TXT record put in, seen at every authoritative server, taken out.
import type { Scheduler } from "../scheduler.js";

/** One DNS provider (RFC 2136 with TSIG, or the operator's command): puts one TXT value in, takes that value out. */
export interface DnsProvider {
  /** Adds `value` beside any other TXT value of `name` (a wildcard and its apex are validated at one name, two values). */
  present(name: string, value: string): Promise<void>;
  /** Takes this value out, the others of the name stay. */
  cleanup(name: string, value: string): Promise<void>;
}

/** Asks one authoritative server for a name's TXT values ([] when it has none). */
export type TxtLookup = (server: string, name: string) => Promise<string[]>;

/** Why a record did not show where the ACME server will look; the order is not asked to validate then. */
export class DnsNotVisible extends Error {}

/** The name an ACME server asks about for a domain (`*.example.org` and `example.org` alike). */
export function challengeName(domain: string): string {
  return `_acme-challenge.${domain.replace(/^\*\./, "")}`;
}

/**
 * Waits until every authoritative server answers `value` among the name's TXT values: the ACME server asks one of
 * them, and a secondary that has not caught up would fail the order. Asks again every `everyMs`; after `timeoutMs`
 * it says which servers still lack it.
 */
export async function waitUntilVisible(lookup: TxtLookup, servers: readonly string[], name: string, value: string, scheduler: Pick<Scheduler, "now" | "sleep">, options: { everyMs?: number; timeoutMs?: number } = {}): Promise<void> {
  if (servers.length === 0) throw new DnsNotVisible(`no authoritative server is known for ${name}`);
  const deadline = scheduler.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const missing: string[] = [];
    for (const server of servers) {
      const values = await lookup(server, name).catch(() => [] as string[]);
      if (!values.includes(value)) missing.push(server);
    }
    if (missing.length === 0) return;
    if (scheduler.now() >= deadline) throw new DnsNotVisible(`the TXT record ${name} is not served by ${missing.join(", ")} after ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s`);
    await scheduler.sleep(options.everyMs ?? 2000);
  }
}
