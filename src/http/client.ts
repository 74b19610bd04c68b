// Who is asking: the visitor's address (trusting X-Real-IP only from our own proxy) and admin checks.
import { createHash, timingSafeEqual } from "node:crypto";
import net from "node:net";
import type { FastifyRequest } from "fastify";

export function clientAddress(request: FastifyRequest, trustedProxies: readonly string[]): string {
  const peer = request.socket.remoteAddress ?? "unknown";
  const forwarded = request.headers["x-real-ip"];
  if (typeof forwarded === "string" && trustedProxies.includes(peer) && net.isIP(forwarded.trim())) return forwarded.trim();
  return peer;
}

/** The per-client key stored in labels: a hash, so no visitor address is kept in Docker. */
export function clientKey(address: string): string {
  return createHash("sha256").update(`demo-launcher:${address}`).digest("hex").slice(0, 24);
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
