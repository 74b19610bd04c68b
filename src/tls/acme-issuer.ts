// Orders a certificate for `<domain>` and `*.<domain>` by ACME DNS-01 (acme-client): each challenge's TXT record put
// in through the DNS provider, waited for at every authoritative server, validated, then taken out again.
import https from "node:https";
import tls from "node:tls";
import acme from "acme-client";
import { challengeName, waitUntilVisible, type DnsProvider, type TxtLookup } from "../core/tls/dns-challenge.js";
import type { Scheduler } from "../core/scheduler.js";

interface AcmeOrderBase {
  /** The ACME directory (Let's Encrypt's, a company CA's, Pebble's in tests). */
  directory: string;
  /** A CA to trust for the directory's own HTTPS, besides the system's (an internal ACME server). */
  directoryCa?: string;
  email?: string;
  /** The ACME account's key (PEM); the caller keeps it, so every renewal is the same account. */
  accountKey: string;
  /** The names the certificate is for: the domain and its wildcard (DNS-01), or one name of a demo's (HTTP-01). */
  names: string[];
  scheduler: Pick<Scheduler, "now" | "sleep">;
}

/** DNS-01: a TXT record through the DNS provider, seen at the zone's authoritative servers before validation. */
export interface DnsOrder extends AcmeOrderBase {
  provider: DnsProvider;
  nameservers: string[];
  lookup: TxtLookup;
  propagationTimeoutMs?: number;
}

/** HTTP-01: the key authorization answered at /.well-known/acme-challenge/<token> on the name's plain HTTP. */
export interface HttpOrder extends AcmeOrderBase {
  http01: { present(token: string, keyAuthorization: string): void; cleanup(token: string): void };
}

export type AcmeOrder = DnsOrder | HttpOrder;

export interface IssuedCertificate {
  /** The certificate and its chain, PEM. */
  certificate: string;
  /** Its private key (ECDSA P-256), PEM. */
  key: string;
  notAfter: Date;
  names: string[];
}

/** A new ECDSA key for an ACME account, PEM (made once, kept by the caller). */
export async function newAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
}

/** Takes a challenge's answer down: the TXT value out of DNS, or the HTTP-01 token no longer answered. */
async function takeDown(order: AcmeOrder, name: string, value: string): Promise<void> {
  if ("http01" in order) order.http01.cleanup(name.slice("http-01:".length));
  else await order.provider.cleanup(name, value);
}

/**
 * The account of this key: found (a renewal, a restart), or made. acme-client's own way would send an existing
 * account an update holding only the terms, which servers refuse ("use POST-as-GET"): every renewal without an
 * e-mail address would fail. A changed address is updated.
 */
async function useAccount(client: acme.Client, email: string | undefined): Promise<void> {
  const contact = email ? { contact: [`mailto:${email}`] } : {};
  try {
    const account = (await client.createAccount({ onlyReturnExisting: true })) as { contact?: string[] };
    if (email && !(account.contact ?? []).includes(`mailto:${email}`)) await client.updateAccount(contact);
  } catch (error) {
    if (!/accountDoesNotExist|does not exist|no account exists|unable to find existing account/i.test(error instanceof Error ? error.message : String(error))) throw error;
    await client.createAccount({ termsOfServiceAgreed: true, ...contact });
  }
}

/**
 * One order, from account to certificate. Throws with the ACME server's problem (its `detail`) when it refuses, or
 * with the DNS provider's words when the record could not be put in or was not seen in time (the ACME server is then
 * never asked to validate, so a DNS problem costs no failed validation against its rate limits).
 */
export async function orderCertificate(order: AcmeOrder): Promise<IssuedCertificate> {
  // acme-client has one HTTP client for the process, and only ACME uses it: the extra CA is trusted there alone.
  if (order.directoryCa) acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, order.directoryCa] });
  // A server that is down or answers 5xx is asked twice more (1 s, 2 s; a Retry-After is obeyed), not five times over
  // 75 s: the renewal plan retries the whole order with its own back-off, and `tls status` says so meanwhile.
  Object.assign((acme.axios.defaults as { acmeSettings?: Record<string, number> }).acmeSettings ?? {}, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
  const client = new acme.Client({ directoryUrl: order.directory, accountKey: order.accountKey, backoffAttempts: 10 });
  const [key, csr] = await acme.crypto.createCsr({ altNames: order.names }, await acme.crypto.createPrivateEcdsaKey("P-256"));
  const placed: Array<{ name: string; value: string }> = [];
  try {
    await useAccount(client, order.email);
    const certificate = await client.auto({
      csr,
      ...(order.email ? { email: order.email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ["http01" in order ? "http-01" : "dns-01"],
      // acme-client would ask the host's resolver (or fetch the token itself); ours asks the zone's own servers.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, value) => {
        if ("http01" in order) {
          if (challenge.type !== "http-01") throw new Error(`the ACME server offered ${challenge.type}, not http-01, for ${authz.identifier.value}`);
          order.http01.present(challenge.token, value);
          placed.push({ name: `http-01:${challenge.token}`, value });
          return;
        }
        if (challenge.type !== "dns-01") throw new Error(`the ACME server offered ${challenge.type}, not dns-01, for ${authz.identifier.value}`);
        const name = challengeName(authz.identifier.value);
        await order.provider.present(name, value);
        placed.push({ name, value });
        await waitUntilVisible(order.lookup, order.nameservers, name, value, order.scheduler, { ...(order.propagationTimeoutMs ? { timeoutMs: order.propagationTimeoutMs } : {}) });
      },
      challengeRemoveFn: async (authz, challenge, value) => {
        const name = "http01" in order ? `http-01:${challenge.token}` : challengeName(authz.identifier.value);
        await takeDown(order, name, value);
        const index = placed.findIndex((entry) => entry.name === name && entry.value === value);
        if (index >= 0) placed.splice(index, 1);
      },
    });
    const info = acme.crypto.readCertificateInfo(certificate);
    return { certificate, key: key.toString(), notAfter: info.notAfter, names: order.names };
  } catch (error) {
    // acme-client's message is the ACME problem's detail (or the DNS provider's words): said with what was ordered where.
    throw new Error(`the certificate for ${order.names.join(", ")} was not issued by ${order.directory}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    // An order that failed half-way leaves no record behind in the operator's DNS.
    for (const entry of placed.splice(0)) await takeDown(order, entry.name, entry.value).catch(() => {});
  }
}
