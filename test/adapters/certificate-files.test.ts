// The certificate nginx will serve, checked before it is installed: a pair made by openssl written into a folder of its
// own with a private key file; a key of another pair, a missing name, an ended certificate and a non-certificate
// refused in words, with nothing written; the pair last served found again after a restart, older ones pruned.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertificateStore, checkCertificate, covers } from "../../src/tls/certificate-files.js";

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

  it("writes a pair that covers the domain and its wildcard into a folder of its own, the key readable by its owner alone", async () => {
    const good = await pair("good", needed);
    const store = new CertificateStore(path.join(dir, "nginx"));
    const installed = await store.add(good.chain, good.key, needed, new Date());
    expect([...installed.info.names].sort()).toEqual(["*.demo.example.org", "demo.example.org"]);
    expect(installed.info.issuer).toContain("CN=demo.example.org");
    expect(path.dirname(installed.certificate)).toBe(path.join(dir, "nginx", "tls", installed.id));
    expect(await readFile(installed.certificate, "utf8")).toBe(good.chain);
    expect(await readFile(installed.key, "utf8")).toBe(good.key);
    expect((await stat(installed.key)).mode & 0o777).toBe(0o600);
    // Nothing is current until it is said to be served; then a new store (a restart) finds it.
    expect(await store.current()).toBeUndefined();
    await store.setCurrent(installed);
    expect(await new CertificateStore(path.join(dir, "nginx")).current()).toEqual(installed);
    expect(await new CertificateStore(path.join(dir, "elsewhere")).current()).toBeUndefined();

    // Refused, and nothing is written.
    const other = await pair("other", needed);
    const narrow = await pair("narrow", ["demo.example.org"]);
    await expect(store.add(good.chain, other.key, needed, new Date())).rejects.toThrow("the key is not the certificate's (they do not form a pair)");
    await expect(store.add(narrow.chain, narrow.key, needed, new Date())).rejects.toThrow("the certificate does not cover *.demo.example.org (it names demo.example.org)");
    await expect(store.add(good.chain, good.key, needed, new Date(Date.now() + 40 * 86_400_000))).rejects.toThrow(/^the certificate ended at 20\d\d-/);
    await expect(store.add("not a certificate", good.key, needed, new Date())).rejects.toThrow("the certificate file holds no PEM certificate");
    await expect(store.add(good.chain, "not a key", needed, new Date())).rejects.toThrow(/^the key cannot be read/);
    expect((await readdir(store.dir)).sort()).toEqual(["current.json", installed.id].sort());
    expect(checkCertificate(good.chain, good.key, ["a.demo.example.org"], new Date()).names).toContain("*.demo.example.org");

    // A second pair beside the first; pruning keeps the ones named.
    const second = await store.add(other.chain, other.key, needed, new Date());
    expect(second.id).not.toBe(installed.id);
    expect(await readFile(installed.certificate, "utf8")).toBe(good.chain);
    await store.prune([second.id]);
    expect((await readdir(store.dir)).sort()).toEqual(["current.json", second.id].sort());
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
