// The certificate nginx serves, checked before it is installed (a pair that does not match, misses a name or has
// ended never reaches nginx) and written atomically beside the routes: `<nginx.configDir>/tls/`.
import { X509Certificate, createPrivateKey } from "node:crypto";
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
function leafOf(chainPem: string): X509Certificate {
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
function infoOf(leaf: X509Certificate): CertificateInfo {
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

/**
 * Installs a checked pair into `<configDir>/tls/`: the key first (0600), then the chain, each written atomically, so
 * nginx's next reload (the watcher's) reads a whole pair. Nothing is written when the check fails.
 */
export async function installCertificate(configDir: string, chainPem: string, keyPem: string, needed: readonly string[], now: Date): Promise<CertificateInfo> {
  const info = checkCertificate(chainPem, keyPem, needed, now);
  const dir = path.join(configDir, "tls");
  await writeAtomically(path.join(dir, KEY_FILE), keyPem, 0o600);
  await writeAtomically(path.join(dir, CERTIFICATE_FILE), chainPem);
  return info;
}

/** The installed certificate's facts, or undefined when none is installed. */
export async function installedCertificate(configDir: string): Promise<CertificateInfo | undefined> {
  const chain = await readIfExists(path.join(configDir, "tls", CERTIFICATE_FILE));
  if (!chain) return undefined;
  return infoOf(leafOf(chain));
}
