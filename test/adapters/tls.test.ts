// HTTPS by itself, for real: the controller orders a wildcard from Pebble (Let's Encrypt's test server) by DNS-01
// through a real BIND (RFC 2136, TSIG), nginx serves it with HTTP/2 to a demo host, plain HTTP redirects; short-lived
// certificates renew under a request loop with no failed request and one reload; with the ACME server down the old
// certificate serves on, the next try waits, doctor warns. (Demos' own names, the operator's files and `up --tls`:
// tls-own.test.ts.)
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TlsService } from "../../src/app/tls.js";
import { tlsCheckOf } from "../../src/cli/checks/tls.js";
import { runTlsStatus } from "../../src/cli/commands/tls.js";
import { readTlsReport } from "../../src/tls/tls-status.js";
import { startAcmeLab, type AcmeLab } from "../support/acme-lab.js";
import { capturedLines, curlHttps, httpsGet, untilTls } from "../support/https.js";
import { gateDropped, launchAndWait, waitFor, type Stack } from "../support/stack.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";

describe("a wildcard by ACME DNS-01, served and renewed by nginx (Pebble, BIND)", () => {
  let lab: AcmeLab;
  let stack: Stack;
  let tls: TlsService;
  let tlsPort: number;
  let root: string;
  let rootFile: string;
  let host: string;
  let bind: AcmeLab["bind"];
  let pebble: AcmeLab["pebble"];

  beforeAll(async () => {
    // Certificates of 60 s, ordered again 50 s before their end: a renewal every 10 s.
    lab = await startAcmeLab({ validitySeconds: 60, hsts: "365d", acme: ["email: ops@example.test", "renewBefore: 50s"] });
    ({ stack, tls, tlsPort, root, bind, pebble } = lab);
    rootFile = path.join(stack.dir, "pebble-root.pem");
    await writeFile(rootFile, root);
  }, 120_000);

  afterAll(async () => {
    await lab?.close();
  });

  it("orders the domain and its wildcard; nginx serves them over HTTP/2 to a demo host, with HSTS; plain HTTP redirects but for ACME and the probe", async () => {
    const report = await untilTls(tls, "the first certificate from Pebble", (current) => Boolean(current.certificate && !current.certificate.placeholder));
    expect([...report.certificate!.names].sort()).toEqual([`*.${bind.zone}`, bind.zone]);
    expect(report.certificate!.issuer).toMatch(/Pebble Intermediate/);
    const demo = await launchAndWait(stack);
    host = demo.host;
    expect(host).toMatch(new RegExp(`^[a-z0-9]+\\.${bind.zone.replace(".", "\\.")}$`));

    const page = await httpsGet(tlsPort, host, root);
    expect(page.status).toBe(200);
    expect(page.body).toContain("guestbook");
    expect(page.headers["strict-transport-security"]).toBe("max-age=31536000");
    // Trusted through Pebble's root alone (the stand-in would fail the handshake), for the demo's name.
    expect(page.altNames.split(", ").sort()).toEqual([`DNS:*.${bind.zone}`, `DNS:${bind.zone}`]);
    expect((await curlHttps(tlsPort, host, rootFile)).httpVersion).toBe("2");
    expect((await curlHttps(tlsPort, bind.zone, rootFile)).status).toBe(200);

    const plain = await stack.viaNginx(host, "/sign?name=ada");
    expect(plain.status).toBe(308);
    expect(plain.headers.location).toBe(`https://${host}:${tlsPort}/sign?name=ada`);
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    // Not redirected: an HTTP-01 check reaches the controller over plain HTTP.
    expect((await stack.viaNginx(host, "/.well-known/acme-challenge/some-token")).status).not.toBe(308);
    expect((await stack.viaNginx(host, "/__demo/generation")).status).toBe(200);
  });

  it("renews under a request loop through nginx: no request fails, one reload swaps the certificate", async () => {
    // Renewals come every 10 s: this one is measured from a quiet moment.
    await untilTls(tls, "no order under way", (current) => !current.ordering);
    const before = tls.report().certificate!.notAfter;
    const first = (await httpsGet(tlsPort, host, root)).fingerprint;
    // The demo launched before was served through the starting gate: its route loses it first, in a write of its own.
    await gateDropped(stack, host);
    const reloadsBefore = stack.watcher.currentStatus().reloads;
    const seen = new Set<string>([first]);
    const failures: string[] = [];
    let requests = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        requests += 1;
        // A new connection each time: a new handshake, so the swap shows at the next request.
        const answer = await httpsGet(tlsPort, host, root).catch((error: Error) => ({ status: 0, body: error.message, fingerprint: "" }));
        if (answer.status === 200) seen.add(answer.fingerprint);
        else failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
      }
    })();
    const renewed = await untilTls(tls, "a renewal", (current) => current.certificate?.notAfter !== before, 90_000);
    await waitFor("the request loop to be served the renewed certificate", async () => seen.size >= 2 || undefined, 30_000, 20);
    stop = true;
    await loop;
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(1);
    expect(seen.size).toBe(2);
    expect(renewed.failures).toBe(0);
    expect(stack.watcher.currentStatus().reloads - reloadsBefore).toBe(1);
  });

  it("keeps serving the old certificate with the ACME server down: the failure reported, the next try a minute on, doctor and `tls status` warn", async () => {
    const served = (await httpsGet(tlsPort, host, root)).fingerprint;
    await pebble.stop();
    const failuresBefore = tls.report().failures;
    await tls.renewNow();
    const report = tls.report();
    expect(report.failures).toBe(failuresBefore + 1);
    expect(report.lastError!.message).toContain(`the certificate for ${bind.zone}, *.${bind.zone} was not issued by ${pebble.directory}: `);
    // The next try is planned a minute after the failure (the back-off's first step), not at once.
    const wait = Date.parse(report.nextRenewalAt!) - Date.parse(report.lastError!.at);
    expect(wait).toBeGreaterThanOrEqual(60_000);
    expect(wait).toBeLessThan(120_000);
    expect((await httpsGet(tlsPort, host, root)).fingerprint).toBe(served);

    const check = tlsCheckOf(report, systemScheduler.now());
    expect(check.ok).toBe("warn");
    expect(check.detail).toContain(`renewal failing (${report.failures} in a row, next try ${report.nextRenewalAt}): the certificate for`);
    // The status file the CLI reads is written after each change.
    await waitFor("the status file to hold the failure", async () => (await readTlsReport(stack.config.stateDir))?.failures === report.failures || undefined, 30_000, 20);
    const { out, output } = capturedLines();
    expect(await runTlsStatus(stack.config, {}, output)).toBe(0);
    expect(out.join("\n")).toContain(`*.${bind.zone}`);
    expect(out.join("\n")).toContain("last error:");
    expect(out.join("\n")).toContain("was not issued by");
  });
});
