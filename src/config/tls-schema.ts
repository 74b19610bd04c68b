// The config of HTTPS (tls:): the operator's own certificate files, a wildcard ordered by ACME DNS-01 through a DNS
// provider (RFC 2136 with TSIG, or a command), or a local CA for `up --tls`.
import { z } from "zod";
import { duration } from "./fields.js";

const filePath = (what: string) => z.string({ error: `must be the path of ${what}` }).min(1, "must not be empty");
const DNS_SERVER = /^(\[[0-9a-fA-F:]+\]|[0-9a-zA-Z.-]+)(:\d{1,5})?$/;
const dnsServer = z.string({ error: "must be a DNS server such as 192.0.2.53 or ns1.example.org:53" }).regex(DNS_SERVER, "must be a DNS server such as 192.0.2.53 or ns1.example.org:53");
export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"] as const;

const rfc2136Schema = z.strictObject({
  provider: z.literal("rfc2136"),
  /** The primary server that takes dynamic updates. */
  server: dnsServer,
  /** The zone the names are in (the domain, or a parent); the domain by default. */
  zone: z.string({ error: "must be a DNS zone such as example.org" }).regex(/^[a-z0-9.-]+$/, "must be a DNS zone such as example.org").optional(),
  keyName: z.string({ error: "must be the TSIG key's name" }).regex(/^[A-Za-z0-9._-]{1,253}$/, "must be the TSIG key's name (letters, digits, . _ -)"),
  keyAlgorithm: z.enum(TSIG_ALGORITHMS, { error: `must be one of: ${TSIG_ALGORITHMS.join(", ")}` }).default("hmac-sha256"),
  /** The TSIG secret, base64; or keySecretFile, so it need not sit in the config file. */
  keySecret: z.string({ error: "must be the TSIG secret (base64)" }).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be the TSIG secret in base64").optional(),
  keySecretFile: filePath("a file holding the TSIG secret").optional(),
  ttl: z.number({ error: "must be a number of seconds from 1 to 86400" }).int().min(1).max(86_400).default(60),
  nameservers: z.array(dnsServer, { error: "must be a list of DNS servers" }).optional(),
  propagationTimeout: duration.prefault("2m"),
}, { error: "must be a map with provider, server, keyName and keySecret" }).refine((dns) => (dns.keySecret === undefined) !== (dns.keySecretFile === undefined), { message: "must have exactly one of keySecret and keySecretFile" });

const execSchema = z.strictObject({
  provider: z.literal("exec"),
  /** The program and its first arguments; `present|cleanup <name> <value>` follow them (lego's exec words). */
  command: z.union([z.string().min(1, "must not be empty").transform((text) => text.trim().split(/\s+/)), z.array(z.string().min(1, "must not be empty")).min(1, "must name a program")], { error: "must be a command: a program and its arguments, as a line or a list" }),
  /** The zone's authoritative servers, where the record must show before validation; asked of DNS by default. */
  nameservers: z.array(dnsServer, { error: "must be a list of DNS servers" }).optional(),
  propagationTimeout: duration.prefault("2m"),
}, { error: "must be a map with provider and command" });

const PROVIDERS = ["rfc2136", "exec"];
const dnsSchema = z.discriminatedUnion("provider", [rfc2136Schema, execSchema], { error: `must be a map whose provider is one of: ${PROVIDERS.join(", ")}` });

const acmeSchema = z.strictObject({
  directory: z.url({ error: "must be the ACME directory URL such as https://acme-v02.api.letsencrypt.org/directory" }).refine((url) => url.startsWith("https://"), { message: "must be an https URL (ACME servers answer over HTTPS)" }).default("https://acme-v02.api.letsencrypt.org/directory"),
  /** A CA to trust for the directory's own HTTPS, besides the system's (a company ACME server, Pebble in tests). */
  directoryCa: filePath("a PEM file").optional(),
  email: z.email({ error: "must be an e-mail address (the CA writes there about expiring certificates)" }).optional(),
  /** The ACME account's key; made once under the state dir by default. */
  accountKey: filePath("a PEM private key").optional(),
  dns: dnsSchema,
  renewBefore: duration.prefault("30d"),
}, { error: "must be a map with directory, email, dns and renewBefore" });

export const tlsSchema = z.strictObject({
  /** The operator's own pair (from certbot, a company CA): watched, served again when they change. */
  certificate: filePath("a PEM certificate chain").optional(),
  key: filePath("a PEM private key").optional(),
  acme: acmeSchema.optional(),
  /** A CA made once under the state dir, for HTTPS on this machine (`up --tls`). */
  local: z.boolean({ error: "must be true or false" }).optional(),
  /** Strict-Transport-Security's max-age (browsers then keep to HTTPS); off by default: it is hard to take back. */
  hsts: z.union([z.literal(false), duration], { error: "must be false or a duration such as 365d" }).default(false),
}, { error: "must be a map with certificate and key, acme, or local" }).superRefine((tls, ctx) => {
  const ways = [tls.certificate !== undefined || tls.key !== undefined, tls.acme !== undefined, tls.local === true].filter(Boolean).length;
  if (ways !== 1) ctx.addIssue({ code: "custom", message: "must have exactly one of: certificate and key (your own files), acme (ordered by DNS-01), local: true (a local CA)" });
  else if ((tls.certificate === undefined) !== (tls.key === undefined)) ctx.addIssue({ code: "custom", path: [tls.certificate === undefined ? "certificate" : "key"], message: "must be given with the other: certificate and key form a pair" });
});

export type TlsConfig = z.output<typeof tlsSchema>;
export type AcmeConfig = NonNullable<TlsConfig["acme"]>;
