// A demo host's session cookie (signed, of that host only) and the one-time codes that carry a sign-in or a launch to it.
import { randomBytes } from "node:crypto";
import type { HostSession } from "../../core/access/policy.js";
import { hostCookie, readCookie, type Signer } from "../console/session.js";

/** `__Host-`: set by that host only, sent to that host only; no demo can plant one on a sibling or the apex. */
export const ACCESS_COOKIE = "__Host-dl-access";
/** The pending sign-in of a demo host, kept on the console's host while the provider's pages are passed. */
export const ACCESS_SIGN_IN_COOKIE = "__Host-dl-access-sign-in";
/** How long a one-time code may take from the controller's host (or the launch) to the demo's. */
const CODE_LIFETIME_MS = 120_000;
/** Codes waiting at most; beyond it the oldest go (each is 120 s at most anyway). */
const MAX_CODES = 10_000;

export type SessionGrant = Omit<HostSession, "sid" | "exp">;

export class HostSessions {
  private readonly codes = new Map<string, { grant: SessionGrant; lifetimeMs: number; exp: number }>();

  constructor(private readonly signer: Signer, private readonly now: () => number) {}

  read(cookieHeader: string | undefined): HostSession | undefined {
    const session = this.signer.verify<HostSession>("access", readCookie(cookieHeader, ACCESS_COOKIE));
    return session && typeof session.sid === "string" && typeof session.host === "string" && typeof session.via === "string" ? session : undefined;
  }

  /** The Set-Cookie of a new session for `grant.host`, ending after `lifetimeMs`. */
  issue(grant: SessionGrant, lifetimeMs: number): { session: HostSession; cookie: string } {
    const session: HostSession = { ...grant, sid: randomBytes(18).toString("base64url"), exp: this.now() + lifetimeMs };
    return { session, cookie: hostCookie(ACCESS_COOKIE, this.signer.sign("access", session), lifetimeMs / 1000, "Lax") };
  }

  cleared(): string {
    return hostCookie(ACCESS_COOKIE, "", 0, "Lax");
  }

  /** A code that becomes a session on `grant.host` once, within two minutes. */
  code(grant: SessionGrant, lifetimeMs: number): string {
    const now = this.now();
    for (const [code, entry] of this.codes) if (entry.exp <= now || this.codes.size > MAX_CODES) this.codes.delete(code);
    const code = randomBytes(24).toString("base64url");
    this.codes.set(code, { grant, lifetimeMs, exp: now + CODE_LIFETIME_MS });
    return code;
  }

  /** The grant a code stands for on this host; used up by the first call whatever the host. */
  redeem(code: string, host: string): { grant: SessionGrant; lifetimeMs: number } | undefined {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    if (!entry || entry.exp <= this.now() || entry.grant.host !== host) return undefined;
    return { grant: entry.grant, lifetimeMs: entry.lifetimeMs };
  }
}
