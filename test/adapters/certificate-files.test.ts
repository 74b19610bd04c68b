// The certificate nginx will serve, checked before it is installed: a pair made by openssl installed atomically with
// a private key file; a key of another pair, a missing name, an ended certificate and a non-certificate refused in
// words, with the installed pair left as it was.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_FILE, checkCertificate, covers, installCertificate, installedCertificate, KEY_FILE } from "../../src/tls/certificate-files.js";

describe("installing the certificate nginx serves", () => {
  let dir: string;
  const pair = async (name: string, names: string[]) => {
    await execa("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((entry) => `DNS:${entry}`).join(",")}`, "-keyout", path.join(dir, `${name}.key`), "-out", path.join(dir, `${name}.pem`)]);
    return { chain: await readFile(path.join(dir, `${name}.pem`), "utf8"), key: await readFile(path.join(dir, `${name}.key`), "utf8") };
  };
  const needed = ["demo.example.org", "*.demo.example.org"];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-certs-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("installs a pair that covers the domain and its wildcard, the key readable by its owner alone", async () => {
    const good = await pair("good", needed);
    const configDir = path.join(dir, "nginx");
    const info = await installCertificate(configDir, good.chain, good.key, needed, new Date());
    expect([...info.names].sort()).toEqual(["*.demo.example.org", "demo.example.org"]);
    expect(info.issuer).toContain("CN=demo.example.org");
    expect(await readFile(path.join(configDir, "tls", CERTIFICATE_FILE), "utf8")).toBe(good.chain);
    expect(await readFile(path.join(configDir, "tls", KEY_FILE), "utf8")).toBe(good.key);
    expect((await stat(path.join(configDir, "tls", KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(await installedCertificate(configDir)).toEqual(info);
    expect(await installedCertificate(path.join(dir, "elsewhere"))).toBeUndefined();

    // Refused, and the pair nginx has stays as it was.
    const other = await pair("other", needed);
    const narrow = await pair("narrow", ["demo.example.org"]);
    await expect(installCertificate(configDir, good.chain, other.key, needed, new Date())).rejects.toThrow("the key is not the certificate's (they do not form a pair)");
    await expect(installCertificate(configDir, narrow.chain, narrow.key, needed, new Date())).rejects.toThrow("the certificate does not cover *.demo.example.org (it names demo.example.org)");
    await expect(installCertificate(configDir, good.chain, good.key, needed, new Date(Date.now() + 40 * 86_400_000))).rejects.toThrow(/^the certificate ended at 20\d\d-/);
    await expect(installCertificate(configDir, "not a certificate", good.key, needed, new Date())).rejects.toThrow("the certificate file holds no PEM certificate");
    await expect(installCertificate(configDir, good.chain, "not a key", needed, new Date())).rejects.toThrow(/^the key cannot be read/);
    expect(await readFile(path.join(configDir, "tls", CERTIFICATE_FILE), "utf8")).toBe(good.chain);
    expect(checkCertificate(good.chain, good.key, ["a.demo.example.org"], new Date()).names).toContain("*.demo.example.org");
  });

  it("lets a wildcard cover one label under it, and no other name", () => {
    expect(covers("*.demo.example.org", "k3x9q2ab.demo.example.org")).toBe(true);
    expect(covers("*.demo.example.org", "api-k3x9q2ab.demo.example.org")).toBe(true);
    expect(covers("*.demo.example.org", "a.b.demo.example.org")).toBe(false);
    expect(covers("*.demo.example.org", "demo.example.org")).toBe(false);
    expect(covers("*.demo.example.org", ".demo.example.org")).toBe(false);
    expect(covers("demo.example.org", "demo.example.org")).toBe(true);
    expect(covers("demo.example.org", "x.demo.example.org")).toBe(false);
  });
});
