// HTTPS for demos' own names and on this machine, for real: a shared demo's own name gets a certificate by HTTP-01
// from Pebble (checking through nginx) once the demo is live, and never a name of no live demo; the operator's own
// certificate files served when they change, a pair that does not match (or that nginx refuses) never served;
// `up --tls`: the local CA's certificate, trusted by its root.
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { execa } from "execa";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TlsService } from "../../src/app/tls.js";
import { localCaDir } from "../../src/app/tls.js";
import { tlsCheckOf } from "../../src/cli/checks/tls.js";
import { LocalCa } from "../../src/tls/local-ca.js";
import { startAcmeLab, type AcmeLab } from "../support/acme-lab.js";
import { curlHttps, httpsGet, untilTls } from "../support/https.js";
import { freePort, request, startStack, type Stack } from "../support/stack.js";
import { parseConfigText } from "../../src/config/load.js";
import { up, withLocalTls } from "../../src/app/up.js";
import { silentLogger } from "../../src/logger.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";

describe("a shared demo's own name: its certificate by HTTP-01, only while its demo is live (Pebble, BIND)", () => {
  let lab: AcmeLab;
  let stack: Stack;
  let tls: TlsService;
  let tlsPort: number;
  let root: string;
  const custom = "shop.custom.test";

  beforeAll(async () => {
    // custom.test is another zone: every name in it is this machine, where Pebble checks the HTTP-01 answer.
    lab = await startAcmeLab({
      addressZones: ["custom.test"],
      appsYaml: [`  hello: { image: ${SAMPLE_IMAGE}, port: 8080, memory: 64m, readiness: { path: /, timeout: 20s } }`, `  broken: { image: ${SAMPLE_IMAGE}, port: 9999, memory: 64m, readiness: { path: /, timeout: 10m } }`].join("\n"),
      // "gone" never becomes live (nothing answers on its port; it waits to): its name is no live demo's.
      extraYaml: `shared:\n  shop: { app: hello, hosts: [${custom}] }\n  gone: { app: broken, hosts: [gone.custom.test] }`,
    });
    ({ stack, tls, tlsPort, root } = lab);
  }, 120_000);

  afterAll(async () => {
    await lab?.close();
  });

  it("orders the name once its demo is live, serves it over HTTPS with its own certificate, redirects its plain HTTP", async () => {
    const report = await untilTls(tls, `a certificate for ${custom}`, (current) => Boolean(current.hosts?.[custom]?.certificate), 90_000);
    expect(report.hosts![custom]!.certificate!.names).toEqual([custom]);
    const page = await httpsGet(tlsPort, custom, root);
    expect(page.status).toBe(200);
    expect(page.body).toContain("guestbook");
    expect(page.altNames).toBe(`DNS:${custom}`);
    // The shared demo's usual host keeps the wildcard.
    expect((await httpsGet(tlsPort, `shop.${lab.bind.zone}`, root)).altNames.split(", ").sort()).toEqual([`DNS:*.${lab.bind.zone}`, `DNS:${lab.bind.zone}`]);
    const plain = await stack.viaNginx(custom, "/sign?name=ada");
    expect(plain.status).toBe(308);
    expect(plain.headers.location).toBe(`https://${custom}:${tlsPort}/sign?name=ada`);
    // Only tokens of our own orders are answered.
    expect((await stack.viaNginx(custom, "/.well-known/acme-challenge/not-a-token-of-ours")).status).toBe(404);
  });

  it("says yes to `ask` for a live demo's name only, and orders nothing for a name whose demo is gone", async () => {
    const ask = (domain: string) => stack.api("GET", `/__demo/tls/ask?domain=${domain}`);
    expect((await ask(custom)).status).toBe(200);
    expect((await ask("nope.custom.test")).status).toBe(404);
    expect((await ask(`abcd1234.${lab.bind.zone}`)).status).toBe(404);
    // Through nginx nobody may ask.
    expect((await stack.viaNginx(lab.bind.zone, `/__demo/tls/ask?domain=${custom}`)).status).not.toBe(200);

    // A shared demo that never became live: its name is refused to `ask`, and no order is made for it.
    expect((await ask("gone.custom.test")).status).toBe(404);
    expect(tls.report().hosts!["gone.custom.test"]).toMatchObject({ waiting: "for its demo to be live", failures: 0 });
    await tls.renewHost("gone.custom.test");
    const after = tls.report().hosts!["gone.custom.test"]!;
    expect(after.failures).toBe(1);
    expect(after.certificate).toBeUndefined();
    expect(tlsCheckOf(tls.report(), systemScheduler.now())).toMatchObject({ ok: "warn", detail: expect.stringContaining("; gone.custom.test: gone.custom.test is not a name of a live demo now") });
    expect(after.lastError!.message).toBe("gone.custom.test is not a name of a live demo now: no certificate is ordered for it");
    // Its plain HTTP is served (no certificate to redirect to): the controller's page for a demo that is not there.
    expect((await stack.viaNginx("gone.custom.test", "/")).status).not.toBe(308);
  });
});

describe("the operator's own certificate files, watched", () => {
  let dir: string;
  let ca: LocalCa;
  let stack: Stack;
  let tlsPort: number;
  const domain = "demo.localhost";
  const names = [domain, `*.${domain}`];
  /** Both files replaced the way certbot's renewal replaces them: each renamed into place. */
  const writePair = async (certificate: string, key: string) => {
    await writeFile(path.join(dir, "key.pem.new"), key);
    await rename(path.join(dir, "key.pem.new"), path.join(dir, "key.pem"));
    await writeFile(path.join(dir, "cert.pem.new"), certificate);
    await rename(path.join(dir, "cert.pem.new"), path.join(dir, "cert.pem"));
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-tls-files-"));
    ca = await LocalCa.open(path.join(dir, "ca"), systemScheduler.now());
    const first = await ca.issue(names, 30, systemScheduler.now());
    await writePair(first.certificate, first.key);
    tlsPort = await freePort();
    stack = await startStack({ nginxYaml: `  listenTls: 127.0.0.1:${tlsPort}`, extraYaml: `tls: { certificate: ${dir}/cert.pem, key: ${dir}/key.pem }` });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves a new pair when the files change, and never one whose key is not the certificate's", async () => {
    const tls = stack.controller!.tls!;
    const firstServed = await httpsGet(tlsPort, domain, ca.rootPem);
    expect(firstServed.status).toBe(200);

    const second = await ca.issue(names, 40, systemScheduler.now());
    const secondEnd = new X509Certificate(second.certificate).validTo;
    await writePair(second.certificate, second.key);
    await untilTls(tls, "the second pair", (report) => report.certificate?.notAfter === new Date(secondEnd).toISOString());
    const served = await httpsGet(tlsPort, domain, ca.rootPem);
    expect(served.fingerprint).toBe(new X509Certificate(second.certificate).fingerprint256);
    expect(served.fingerprint).not.toBe(firstServed.fingerprint);

    const reloads = stack.watcher.currentStatus().reloads;
    const third = await ca.issue(names, 50, systemScheduler.now());
    await writePair(third.certificate, second.key);
    const refused = await untilTls(tls, "the mismatched pair refused", (report) => report.failures > 0);
    expect(refused.lastError!.message).toBe("the key is not the certificate's (they do not form a pair)");
    expect(refused.certificate!.notAfter).toBe(new Date(secondEnd).toISOString());
    expect((await httpsGet(tlsPort, domain, ca.rootPem)).fingerprint).toBe(served.fingerprint);
    expect(stack.watcher.currentStatus().reloads).toBe(reloads);

    // A pair our check lets through but nginx's OpenSSL refuses (an RSA key of 512 bits): nginx -t fails on the routes
    // file naming it, the watcher keeps the last good one, and the controller goes back to the pair that serves.
    await execa("openssl", ["req", "-x509", "-newkey", "rsa:512", "-nodes", "-days", "30", "-subj", `/CN=${domain}`, "-addext", `subjectAltName=DNS:${domain},DNS:*.${domain}`, "-keyout", path.join(dir, "weak.key"), "-out", path.join(dir, "weak.pem")]);
    await writePair(await readFile(path.join(dir, "weak.pem"), "utf8"), await readFile(path.join(dir, "weak.key"), "utf8"));
    const weak = await untilTls(tls, "the weak pair refused by nginx", (report) => report.lastError?.message.startsWith("nginx refused it") === true);
    expect(weak.lastError!.message).toContain("ee key too small");
    expect(weak.certificate!.notAfter).toBe(new Date(secondEnd).toISOString());
    expect((await httpsGet(tlsPort, domain, ca.rootPem)).fingerprint).toBe(served.fingerprint);
    expect(await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8")).toContain(tls.routesTls()!.certificate);
    expect(await readFile(tls.routesTls()!.certificate, "utf8")).toBe(second.certificate);

    // Put right: served, and the failure is over.
    await writePair(third.certificate, third.key);
    await untilTls(tls, "the third pair", (report) => report.failures === 0 && report.certificate?.notAfter !== new Date(secondEnd).toISOString());
    expect((await httpsGet(tlsPort, domain, ca.rootPem)).fingerprint).toBe(new X509Certificate(third.certificate).fingerprint256);
  });
});

describe("`up --tls`: HTTPS on this machine from a local CA", () => {
  it("serves the landing page and the console over HTTPS, trusted through the CA's root under the state dir", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-up-tls-"));
    const [nginxPort, tlsPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
    const yaml = `namespace: uptls${Math.random().toString(36).slice(2, 8)}\nlisten: 127.0.0.1:${controllerPort}\nstateDir: state\nnginx: { listen: "127.0.0.1:${nginxPort}", listenTls: "127.0.0.1:${tlsPort}", configDir: nginx-config }\n`;
    const handle = await up(withLocalTls(parseConfigText(yaml, path.join(dir, "config.yaml"), dir)), silentLogger);
    try {
      expect(handle.url).toBe(`https://demo.localhost:${tlsPort}/`);
      const rootFile = path.join(localCaDir({ stateDir: path.join(dir, "state") }), "root.pem");
      const landing = await curlHttps(tlsPort, "demo.localhost", rootFile);
      expect(landing, landing.output).toMatchObject({ httpVersion: "2", status: 200 });
      const plain = await request(nginxPort, { host: "demo.localhost", path: "/" });
      expect(plain.status).toBe(308);
      expect(plain.headers.location).toBe(`https://demo.localhost:${tlsPort}/`);
    } finally {
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
