// Signed values for the console: its session cookie, the sign-in's pending state, and the CSRF token of a session.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** `__Host-`: only this exact host over TLS can set it, so no demo on a sibling host can plant or replace it. */
export const SESSION_COOKIE = "__Host-dl-session";
export const SIGN_IN_COOKIE = "__Host-dl-sign-in";

export interface Session {
  sid: string;
  /** Who signed in: an e-mail (OpenID), "admin token" or "this machine". */
  who: string;
  via: "oidc" | "token" | "local";
  exp: number;
}

/** What a sign-in through the provider must come back with (PKCE verifier, state, nonce), and where to go next. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
}

const b64 = (buffer: Buffer) => buffer.toString("base64url");
/** One key per purpose: the console's, and the demo hosts' sessions and sign-ins (src/http/access/). */
export type Purpose = "session" | "sign-in" | "csrf" | "access" | "access-sign-in";

export class Signer {
  private readonly keys: Record<Purpose, Buffer>;
  /** Signed-out sessions, until they would have expired anyway (in memory: a restart forgets them). */
  private readonly revoked = new Map<string, number>();

  constructor(secret: Buffer, private readonly now: () => number) {
    // One key per purpose: a value signed as one thing can never pass as another.
    const derive = (purpose: string) => createHmac("sha256", secret).update(`demo-launcher console ${purpose}`).digest();
    this.keys = { session: derive("session"), "sign-in": derive("sign-in"), csrf: derive("csrf"), access: derive("access"), "access-sign-in": derive("access-sign-in") };
  }

  newSession(who: string, via: Session["via"], lifetimeMs: number): { session: Session; value: string } {
    const session: Session = { sid: b64(randomBytes(18)), who, via, exp: this.now() + lifetimeMs };
    return { session, value: this.sign("session", session) };
  }

  /** The session a cookie value stands for, if its signature holds, it has not expired and nobody signed it out. */
  session(value: string | undefined): Session | undefined {
    const session = this.verify<Session>("session", value);
    if (!session || typeof session.sid !== "string" || typeof session.who !== "string" || this.revoked.has(session.sid)) return undefined;
    return session;
  }

  revoke(session: Session): void {
    this.revoked.set(session.sid, session.exp);
    for (const [sid, exp] of this.revoked) if (exp < this.now()) this.revoked.delete(sid);
  }

  pendingSignIn(lifetimeMs: number): { pending: PendingSignIn; value: string } {
    const pending: PendingSignIn = { state: b64(randomBytes(24)), nonce: b64(randomBytes(24)), verifier: b64(randomBytes(48)), exp: this.now() + lifetimeMs };
    return { pending, value: this.sign("sign-in", pending) };
  }

  signIn(value: string | undefined): PendingSignIn | undefined {
    return this.verify<PendingSignIn>("sign-in", value);
  }

  /** Bound to the session (not a second cookie): a demo that could plant cookies still cannot produce it. */
  csrfToken(session: Pick<Session, "sid">): string {
    return b64(createHmac("sha256", this.keys.csrf).update(session.sid).digest());
  }

  csrfMatches(session: Pick<Session, "sid">, given: unknown): boolean {
    return typeof given === "string" && equal(given, this.csrfToken(session));
  }

  /** Exposed for tests that must present a correctly signed but expired or altered value. */
  sign(purpose: Purpose, payload: { exp: number }): string {
    const body = b64(Buffer.from(JSON.stringify(payload)));
    return `${body}.${b64(createHmac("sha256", this.keys[purpose]).update(body).digest())}`;
  }

  /** A value this signer signed for `purpose`, not expired; undefined otherwise. */
  verify<T extends { exp: number }>(purpose: Purpose, value: string | undefined): T | undefined {
    if (!value || value.length > 4096) return undefined;
    const [body, signature, extra] = value.split(".");
    if (!body || !signature || extra !== undefined) return undefined;
    if (!equal(signature, b64(createHmac("sha256", this.keys[purpose]).update(body).digest()))) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as T;
      return typeof payload.exp === "number" && payload.exp > this.now() ? payload : undefined;
    } catch {
      return undefined;
    }
  }
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The value of one cookie, by its exact name. Two cookies of that name (possible only for names without a
 * prefix the browser enforces) make it unreadable rather than letting the planted one win.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const values = header.split(";").map((part) => part.trim()).filter((part) => part.startsWith(`${name}=`)).map((part) => part.slice(name.length + 1));
  return values.length === 1 ? values[0] : undefined;
}

/** Set-Cookie for a `__Host-` cookie: Secure, Path=/ and no Domain are what the prefix requires. */
export function hostCookie(name: string, value: string, maxAgeSeconds: number, sameSite: "Strict" | "Lax"): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=${sameSite}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}
