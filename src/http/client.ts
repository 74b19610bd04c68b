// Who is asking: the visitor's address (trusting X-Real-IP only from our own proxy), its keyed hash and network, and admin checks.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import net from "node:net";
import type { FastifyRequest } from "fastify";

export function clientAddress(request: FastifyRequest, trustedProxies: readonly string[]): string {
  const peer = request.socket.remoteAddress ?? "unknown";
  const forwarded = request.headers["x-real-ip"];
  if (typeof forwarded === "string" && trustedProxies.includes(peer) && net.isIP(forwarded.trim())) return forwarded.trim();
  return peer;
}

/** How wide a visitor's network is counted: IPv4 by /24, IPv6 by /64 unless the operator says otherwise. */
export interface NetworkPrefixes {
  ipv4: number;
  ipv6: number;
}

/**
 * The per-visitor key stored in labels and the state file: `<network>.<visitor>`, each an HMAC with a secret
 * kept in the state dir, so a label cannot be turned back into an address by trying all of IPv4. One IPv6
 * host holds a whole /64, so a visitor on IPv6 is their /64, not each address they can pick from it.
 */
export class VisitorKeys {
  constructor(private readonly secret: Buffer, private readonly prefixes: NetworkPrefixes) {}

  of(address: string): string {
    const bytes = addressBytes(address);
    if (!bytes) return `${this.hash("network?", address)}.${this.hash("visitor?", address)}`;
    const v4 = bytes.length === 4;
    const visitorPrefix = v4 ? 32 : 64;
    const networkPrefix = v4 ? this.prefixes.ipv4 : this.prefixes.ipv6;
    return `${this.hash(`network/${networkPrefix}`, masked(bytes, networkPrefix))}.${this.hash(`visitor/${visitorPrefix}`, masked(bytes, visitorPrefix))}`;
  }

  private hash(purpose: string, value: string): string {
    return createHmac("sha256", this.secret).update(`demo-launcher ${purpose} ${value}`).digest("hex").slice(0, 16);
  }
}

/** An address as bytes: 4 for IPv4 (also when written as IPv4-mapped IPv6), 16 for IPv6; undefined for anything else. */
export function addressBytes(address: string): number[] | undefined {
  const text = address.trim().replace(/%.*$/, "");
  if (net.isIPv4(text)) return text.split(".").map(Number);
  if (!net.isIPv6(text)) return undefined;
  // A trailing dotted IPv4 (::ffff:192.0.2.1) is written as its two hex groups first.
  const plain = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a: string, b: string, c: string, d: string) => `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => parseInt(group, 16)));
  const halves = plain.split("::");
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = halves.length === 2 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group))) return undefined;
  const bytes = groups.flatMap((group) => [group >> 8, group & 0xff]);
  // ::ffff:a.b.c.d is an IPv4 visitor seen through a dual-stack socket.
  if (bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/** The first `prefix` bits of an address in hex; the rest are zero. */
function masked(bytes: readonly number[], prefix: number): string {
  return bytes
    .map((byte, index) => {
      const keep = Math.max(0, Math.min(8, prefix - index * 8));
      return (byte & ((0xff << (8 - keep)) & 0xff)).toString(16).padStart(2, "0");
    })
    .join("");
}

/** Came straight to the controller, not through nginx (which always sets X-Real-IP). */
export function isDirectLoopback(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress ?? "";
  const loopback = peer === "127.0.0.1" || peer === "::1" || peer === "::ffff:127.0.0.1";
  return loopback && request.headers["x-real-ip"] === undefined && request.headers["x-forwarded-for"] === undefined;
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
