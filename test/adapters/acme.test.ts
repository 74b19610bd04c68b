// An ACME DNS-01 order for real: Pebble (Let's Encrypt's test server) validating against a real BIND that our
// RFC 2136 provider updates. A wildcard and its apex issued, chained to Pebble's root, no record left behind; a record
// with the wrong value refused with the ACME problem's words, its record taken out too.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAccountKey, orderCertificate } from "../../src/tls/acme-issuer.js";
import { Rfc2136Provider } from "../../src/tls/rfc2136.js";
import { lookupTxt } from "../../src/tls/txt-lookup.js";
import type { DnsProvider } from "../../src/core/tls/dns-challenge.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";
import { startBind, type LocalBind } from "../support/bind.js";
import { startPebble, type LocalPebble } from "../support/pebble.js";

describe("ordering a wildcard certificate by DNS-01 (Pebble, BIND)", () => {
  let bind: LocalBind;
  let pebble: LocalPebble;
  let accountKey: string;
  const rfc2136 = () => new Rfc2136Provider({ server: "127.0.0.1", port: bind.port, zone: bind.zone, tsig: bind.tsig, ttl: 60, timeoutMs: 10_000 });
  const order = (provider: DnsProvider, lookup = lookupTxt, key = accountKey, email: string | undefined = "ops@example.test") => orderCertificate({ directory: pebble.directory, directoryCa: pebble.listenerCa, ...(email ? { email } : {}), accountKey: key, names: [bind.zone, `*.${bind.zone}`], provider, nameservers: [bind.server], lookup, scheduler: systemScheduler });

  beforeAll(async () => {
    bind = await startBind();
    pebble = await startPebble(bind.server);
    accountKey = await newAccountKey();
  }, 60_000);

  afterAll(async () => {
    await pebble?.stop();
    await bind?.stop();
  });

  it("issues the domain and its wildcard, chained to the ACME server's root, and leaves no record behind", async () => {
    const issued = await order(rfc2136());
    const [leafPem, ...chain] = issued.certificate.split(/(?<=-----END CERTIFICATE-----)\s*/).filter((part) => part.trim());
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.subjectAltName?.split(", ").sort()).toEqual([`DNS:*.${bind.zone}`, `DNS:${bind.zone}`]);
    expect(leaf.checkPrivateKey(createPrivateKey(issued.key))).toBe(true);
    expect(issued.notAfter.getTime()).toBe(new Date(leaf.validTo).getTime());
    // leaf ← intermediate ← Pebble's root.
    const intermediate = new X509Certificate(chain[0]!);
    const root = new X509Certificate(await pebble.issuingRoot());
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(await lookupTxt(bind.server, `_acme-challenge.${bind.zone}`)).toEqual([]);
  });

  it("orders again with the same account, with or without an e-mail address (a renewal, a restart)", async () => {
    // acme-client alone sends an existing account an update of the terms only, which Pebble (like the RFC) refuses.
    const key = await newAccountKey();
    const first = await order(rfc2136(), lookupTxt, key, undefined);
    const second = await order(rfc2136(), lookupTxt, key, undefined);
    expect(second.certificate).not.toBe(first.certificate);
    // An address given later is written to the same account.
    expect((await order(rfc2136(), lookupTxt, key, "new@example.test")).names).toEqual([bind.zone, `*.${bind.zone}`]);
  });

  it("reports a refused validation in the ACME problem's words, and takes its record out", async () => {
    // The record put in is not the one asked for; the wait is told it is there, so the ACME server looks and refuses.
    const asked: string[] = [];
    const wrong: DnsProvider = {
      present: async (name, value) => {
        asked.push(value);
        await rfc2136().present(name, `not-${value}`);
      },
      cleanup: (name, value) => rfc2136().cleanup(name, `not-${value}`),
    };
    // Another account: the first one's valid authorizations would be reused without a new validation.
    await expect(order(wrong, async () => asked, await newAccountKey())).rejects.toThrow(`the certificate for ${bind.zone}, *.${bind.zone} was not issued by ${pebble.directory}: Correct value not found for DNS challenge`);
    expect(await lookupTxt(bind.server, `_acme-challenge.${bind.zone}`)).toEqual([]);
  });
});
