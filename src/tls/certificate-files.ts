// The certificate nginx serves, checked before it is installed (a pair that does not match, misses a name or has
// ended never reaches nginx) and written, a folder per pair, beside the routes: `<nginx.configDir>/tls/<id>/`.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { readIfExists, writeAtomically } from "../files/atomic.js";

export const CERTIFICATE_FILE = "fullchain.pem";
export const KEY_FILE = "privkey.pem";

/** What a certificate says of itself, for `tls status`, doctor and the renewal plan. */
export interface CertificateInfo {
  names: string[];
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

/** Why a certificate may not be served, in words naming what is wrong. */
export class CertificateProblem extends Error {}

/** The first certificate of a PEM chain (the server's own), or a CertificateProblem. */
export function leafOf(chainPem: string): X509Certificate {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem)?.[0];
  if (!first) throw new CertificateProblem("the certificate file holds no PEM certificate");
  try {
    return new X509Certificate(first);
  } catch (error) {
    throw new CertificateProblem(`the certificate cannot be read: ${(error as Error).message}`);
  }
}

/** Whether a certificate name covers a host: exactly, or one label under a wildcard (`*.example.org`). */
export function covers(certificateName: string, host: string): boolean {
  if (certificateName === host) return true;
  if (!certificateName.startsWith("*.") || !host.endsWith(certificateName.slice(1))) return false;
  const label = host.slice(0, host.length - certificateName.length + 1);
  return label.length > 0 && !label.includes(".");
}

/** What a certificate says of itself. */
export function infoOf(leaf: X509Certificate): CertificateInfo {
  const names = (leaf.subjectAltName ?? "").split(", ").filter((entry) => entry.startsWith("DNS:")).map((entry) => entry.slice(4));
  return { names, issuer: leaf.issuer.replace(/\n/g, ", "), notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo) };
}

/**
 * Checks a chain and its key before nginx may serve them: the key is the certificate's, every name in `needed` is
 * covered (the domain and its wildcard), and it is valid at `now`. Answers what the certificate says.
 */
export function checkCertificate(chainPem: string, keyPem: string, needed: readonly string[], now: Date): CertificateInfo {
  const leaf = leafOf(chainPem);
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(createPrivateKey(keyPem));
  } catch (error) {
    throw new CertificateProblem(`the key cannot be read: ${(error as Error).message}`);
  }
  if (!matches) throw new CertificateProblem("the key is not the certificate's (they do not form a pair)");
  const info = infoOf(leaf);
  const missing = needed.filter((host) => !info.names.some((name) => covers(name, host)));
  if (missing.length > 0) throw new CertificateProblem(`the certificate does not cover ${missing.join(", ")} (it names ${info.names.join(", ") || "no DNS name"})`);
  if (now < info.notBefore) throw new CertificateProblem(`the certificate is not valid before ${info.notBefore.toISOString()}`);
  if (now >= info.notAfter) throw new CertificateProblem(`the certificate ended at ${info.notAfter.toISOString()}`);
  return info;
}

/** A checked pair written where nginx can read it: a folder of its own, named by the certificate's fingerprint. */
export interface InstalledPair {
  id: string;
  certificate: string;
  key: string;
  info: CertificateInfo;
}

/** What the controller last saw nginx serve: a restart starts from it. */
const CURRENT_FILE = "current.json";

/**
 * The pairs under `<configDir>/tls/`: each in a folder of its own that is never written again, so the pair nginx
 * serves is never touched while a new one is checked. nginx serves a new pair only once routes.conf names it (and the
 * watcher's `nginx -t` passed it); until then, and when it is refused, the old folder keeps serving.
 */
export class CertificateStore {
  readonly dir: string;

  /** `dir`: another folder than `<configDir>/tls/` (a demo's own name keeps its pairs apart). */
  constructor(configDir: string, dir = path.join(configDir, "tls")) {
    this.dir = dir;
  }

  private pairIn(id: string, info: CertificateInfo): InstalledPair {
    return { id, certificate: path.join(this.dir, id, CERTIFICATE_FILE), key: path.join(this.dir, id, KEY_FILE), info };
  }

  /** Checks a pair (checkCertificate) and writes it, the key readable by its owner alone; nothing is written when the check fails. */
  async add(chainPem: string, keyPem: string, needed: readonly string[], now: Date): Promise<InstalledPair> {
    const info = checkCertificate(chainPem, keyPem, needed, now);
    const id = leafOf(chainPem).fingerprint256.replace(/:/g, "").slice(0, 16).toLowerCase();
    const target = path.join(this.dir, id);
    if ((await readIfExists(path.join(target, CERTIFICATE_FILE))) === chainPem) return this.pairIn(id, info);
    // Written whole in a folder of its own, then renamed into place: nginx never reads half a pair.
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const building = await mkdtemp(path.join(this.dir, ".new-"));
    await writeAtomically(path.join(building, KEY_FILE), keyPem, 0o600);
    await writeAtomically(path.join(building, CERTIFICATE_FILE), chainPem);
    await chmod(building, 0o755);
    await rm(target, { recursive: true, force: true });
    await rename(building, target);
    return this.pairIn(id, info);
  }

  /** The pair last confirmed served, if its files are still there. */
  async current(): Promise<InstalledPair | undefined> {
    const text = await readIfExists(path.join(this.dir, CURRENT_FILE));
    const id = text ? (JSON.parse(text) as { id?: unknown }).id : undefined;
    if (typeof id !== "string" || !/^[0-9a-f]{16}$/.test(id)) return undefined;
    const chain = await readIfExists(path.join(this.dir, id, CERTIFICATE_FILE));
    if (!chain || (await readIfExists(path.join(this.dir, id, KEY_FILE))) === undefined) return undefined;
    return this.pairIn(id, infoOf(leafOf(chain)));
  }

  async setCurrent(pair: InstalledPair): Promise<void> {
    await writeAtomically(path.join(this.dir, CURRENT_FILE), `${JSON.stringify({ id: pair.id })}\n`);
  }

  /** Removes every pair but these (the one served, and the one before it while the last good routes file may name it). */
  async prune(keep: readonly string[]): Promise<void> {
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      if (entry === CURRENT_FILE || keep.includes(entry)) continue;
      await rm(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }
}
