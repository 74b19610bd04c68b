// Demo ids and hosts: unguessable lowercase ids that are valid DNS labels.
import { customAlphabet } from "nanoid";

export const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function makeIdGenerator(length: number): () => string {
  // A DNS label may not start with a digit in some resolvers' eyes; a letter first keeps every tool happy.
  const first = customAlphabet("abcdefghijklmnopqrstuvwxyz", 1);
  const rest = customAlphabet(ID_ALPHABET, Math.max(1, length - 1));
  return () => first() + rest();
}

/** Bits of randomness in an id of this length (the first character has 26 choices). */
export function idEntropyBits(length: number): number {
  return Math.log2(26) + (length - 1) * Math.log2(ID_ALPHABET.length);
}

/** The host of an environment's further routed service (routes:): its name before the demo's own host. */
export function furtherHost(name: string, demoHost: string): string {
  return `${name}-${demoHost}`;
}

export function hostFor(id: string, domain: string): string {
  return `${id}.${domain}`;
}

/** A visitor demo's id: no hyphen, so it can never be a preview's label (which always has one). */
export const ID_PATTERN = /^[a-z][0-9a-z]{3,63}$/;
/** Any demo's id: a visitor id, a preview label (`web-main`, `web-commit-0123456789ab`) or a shared demo's name (`try`). */
export const DEMO_ID_PATTERN = /^[a-z][0-9a-z-]{1,61}[0-9a-z]$/;

/** The demo id a Host header names, if it is `<id>.<domain>` (port and case ignored). */
export function idFromHost(hostHeader: string | undefined, domain: string): string | undefined {
  if (!hostHeader) return undefined;
  const host = normalizeHost(hostHeader);
  const suffix = `.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  return DEMO_ID_PATTERN.test(label) ? label : undefined;
}

export function normalizeHost(hostHeader: string): string {
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith("[")) return host; // IPv6 literal: never a demo host
  const colon = host.lastIndexOf(":");
  if (colon >= 0) host = host.slice(0, colon);
  return host.endsWith(".") ? host.slice(0, -1) : host;
}
