// Certificates made here, not by an ACME server: a self-signed stand-in that lets nginx start before the first order,
// and the local CA of `up --tls` (made once under the state dir, its root trusted by the operator's browser).
import { webcrypto } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { readIfExists, writeAtomically } from "../files/atomic.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
/** The issuer's name on the stand-in: `tls status` and the renewal plan know it is not a real certificate. */
export const PLACEHOLDER_ISSUER = "demo-launcher placeholder";

export interface CertificatePair {
  /** The certificate and its chain, PEM. */
  certificate: string;
  key: string;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key as webcrypto.CryptoKey), "PRIVATE KEY");
}

function serverExtensions(names: readonly string[], keys: CryptoKeyPair): Promise<x509.Extension[]> {
  return Promise.all([
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
    x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ]);
}

/** One label a certificate subject may carry: the first name without a wildcard's `*.`. */
function commonName(names: readonly string[]): string {
  return names[0]!.replace(/^\*\./, "");
}

/** A self-signed certificate for the names, valid `days` from a minute ago (clocks that lag a little still take it). */
export async function selfSignedPair(names: readonly string[], days: number, now: number, issuer = PLACEHOLDER_ISSUER): Promise<CertificatePair> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as unknown as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName(names)}, O=${issuer}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: await serverExtensions(names, keys),
  });
  return { certificate: certificate.toString("pem"), key: await exportKey(keys.privateKey) };
}

/** The local CA `up --tls` issues its certificates from: made once, kept under `<stateDir>/tls/local-ca/`. */
export class LocalCa {
  private constructor(readonly rootFile: string, private readonly root: x509.X509Certificate, private readonly key: CryptoKey) {}

  /** Loads the CA from `dir`, or makes it (ten years, P-256) the first time; the key is readable by this user only. */
  static async open(dir: string, now: number): Promise<LocalCa> {
    const rootFile = path.join(dir, "root.pem");
    const keyFile = path.join(dir, "root-key.pem");
    const [rootPem, keyPem] = [await readIfExists(rootFile), await readIfExists(keyFile)];
    if (rootPem && keyPem) {
      const key = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), EC, false, ["sign"]);
      return new LocalCa(rootFile, new x509.X509Certificate(rootPem), key as unknown as CryptoKey);
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as unknown as CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=demo-launcher local CA (${path.resolve(dir)}), O=demo-launcher`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3650 * DAY_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    await writeAtomically(keyFile, await exportKey(keys.privateKey), 0o600);
    await writeAtomically(rootFile, root.toString("pem"));
    return new LocalCa(rootFile, root, keys.privateKey);
  }

  /** The root, PEM: what a browser or curl is told to trust. */
  get rootPem(): string {
    return this.root.toString("pem");
  }

  /** A server certificate for the names, signed by this CA, valid `days`; the chain holds the leaf and the root. */
  async issue(names: readonly string[], days: number, now: number): Promise<CertificatePair & { notAfter: Date }> {
    const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as unknown as CryptoKeyPair;
    const notAfter = new Date(now + days * DAY_MS);
    const leaf = await x509.X509CertificateGenerator.create({
      subject: `CN=${commonName(names)}`,
      issuer: this.root.subject,
      notBefore: new Date(now - 60_000),
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [...(await serverExtensions(names, keys)), await x509.AuthorityKeyIdentifierExtension.create(this.root)],
    });
    return { certificate: `${leaf.toString("pem")}\n${this.rootPem}\n`, key: await exportKey(keys.privateKey), notAfter };
  }
}
