// One ACME order as the config describes it: the account key (made once under the state dir), the directory's own
// CA, the DNS provider (RFC 2136 or the operator's command) and the servers the record must show at.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/load.js";
import type { AcmeConfig } from "../config/tls-schema.js";
import { SetupError } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";
import type { DnsProvider } from "../core/tls/dns-challenge.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";
import { newAccountKey, orderCertificate, type IssuedCertificate } from "../tls/acme-issuer.js";
import { ExecProvider } from "../tls/exec-provider.js";
import { Rfc2136Provider } from "../tls/rfc2136.js";
import { authoritativeServers, lookupTxt, serverAddress, splitHostPort } from "../tls/txt-lookup.js";
import type { Http01Challenges } from "../tls/http01.js";

/** The account key: the configured file, or `<stateDir>/tls/acme-account.pem`; made (0600) when it is not there yet. */
async function accountKey(config: Config, acme: AcmeConfig): Promise<string> {
  const file = acme.accountKey ?? path.join(config.stateDir, "tls", "acme-account.pem");
  const existing = await readIfExists(file);
  if (existing) return existing;
  const key = await newAccountKey();
  await writeAtomically(file, key, 0o600);
  return key;
}

async function readSetting(file: string, key: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new SetupError(`${key}: ${JSON.stringify(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

export interface AcmeOrders {
  /** The domain and its wildcard, by DNS-01. */
  wildcard(): Promise<IssuedCertificate>;
  /** One of a demo's own names, by HTTP-01 (its answers put up where the controller serves them). */
  host(name: string): Promise<IssuedCertificate>;
}

/** Builds the orders once (files read, the provider made); each call is one order, all of one account. */
export async function acmeOrders(config: Config, acme: AcmeConfig, names: string[], scheduler: Scheduler, http01: Http01Challenges): Promise<AcmeOrders> {
  const key = await accountKey(config, acme);
  const directoryCa = acme.directoryCa ? await readSetting(acme.directoryCa, "tls.acme.directoryCa") : undefined;
  const dns = acme.dns;
  let provider: DnsProvider;
  let defaultServers: () => Promise<string[]>;
  if (dns.provider === "rfc2136") {
    const secret = dns.keySecret ?? (await readSetting(dns.keySecretFile!, "tls.acme.dns.keySecretFile")).trim();
    const { host, port = 53 } = splitHostPort(dns.server);
    provider = new Rfc2136Provider({ server: host, port, zone: dns.zone ?? config.domain, tsig: { name: dns.keyName, algorithm: dns.keyAlgorithm, secret }, ttl: dns.ttl, timeoutMs: 10_000 });
    // The primary takes the update; with no list given it is the one asked (secondaries are named in nameservers).
    defaultServers = async () => [await serverAddress(dns.server)];
  } else {
    provider = new ExecProvider(dns.command);
    defaultServers = () => authoritativeServers(config.domain);
  }
  const account = { directory: acme.directory, ...(directoryCa ? { directoryCa } : {}), ...(acme.email ? { email: acme.email } : {}), accountKey: key, scheduler };
  return {
    async wildcard() {
      // Asked at each order: a zone's servers can change between renewals months apart.
      const nameservers = dns.nameservers ? await Promise.all(dns.nameservers.map(serverAddress)) : await defaultServers();
      return orderCertificate({ ...account, names, provider, nameservers, lookup: lookupTxt, propagationTimeoutMs: dns.propagationTimeout });
    },
    host: (name) => orderCertificate({ ...account, names: [name], http01 }),
  };
}
