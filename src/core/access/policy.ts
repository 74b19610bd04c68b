// Who may open a demo's host: the access modes, the host sessions a browser holds, and the decision between them; pure.

/** public: anyone (today's path, no check). owner: only the browser that launched it. signin: people the OpenID provider vouches for. password: whoever knows it. */
export type AccessMode = "public" | "owner" | "signin" | "password";
export const ACCESS_MODES: readonly AccessMode[] = ["public", "owner", "signin", "password"];

export interface AccessAllow {
  emails: string[];
  /** E-mail domains, lowercase (`example.org`): every verified address there. */
  domains: string[];
  groups: string[];
}

export interface AccessPolicy {
  mode: AccessMode;
  /** signin: who may enter besides the console's admins. */
  allow?: AccessAllow;
  /** password: the config's hash (scrypt), unless the demo was given its own through the API. */
  passwordHash?: string;
}

export const PUBLIC: AccessPolicy = { mode: "public" };

/** What a host's session cookie holds (signed by the edge): one host, one way in, one end. */
export interface HostSession {
  sid: string;
  host: string;
  via: "signin" | "password" | "share" | "owner";
  /** signin: the verified e-mail (or subject) and groups at sign-in. */
  who?: string;
  email?: string;
  groups?: string[];
  /** share: the link it came from (revoking the link ends it). */
  share?: string;
  /** password: which password it was (a new password ends every session of the old one). */
  stamp?: string;
  exp: number;
}

/** Why a request was refused, as metrics and logs name it. */
export type RefusalReason = "no-session" | "other-host" | "not-allowed" | "share-ended" | "password-changed" | "signed-out" | "not-owner" | "no-password";

export type AccessVerdict = { allowed: true; via: HostSession["via"] | "public" } | { allowed: false; reason: RefusalReason };

export interface AccessFacts {
  policy: AccessPolicy;
  host: string;
  session: HostSession | undefined;
  /** The console's admins (admin.oidc): always let in where sign-in is the way. */
  admins: { emails: readonly string[]; groups: readonly string[] };
  /** Whether a share link is still live (not revoked, not past its end). */
  shareLive(id: string): boolean;
  /** The stamp of the password now in force; undefined when none is set. */
  passwordStamp: string | undefined;
  signedOut(sid: string): boolean;
}

export function decideAccess(facts: AccessFacts): AccessVerdict {
  const { policy, session } = facts;
  if (policy.mode === "public") return { allowed: true, via: "public" };
  if (!session) return { allowed: false, reason: policy.mode === "owner" ? "not-owner" : policy.mode === "password" && facts.passwordStamp === undefined ? "no-password" : "no-session" };
  // A cookie is bound to its host by its content too, not only by the browser's cookie rules.
  if (session.host !== facts.host) return { allowed: false, reason: "other-host" };
  if (facts.signedOut(session.sid)) return { allowed: false, reason: "signed-out" };
  // A share link opens any gated host until its end, whatever the mode.
  if (session.via === "share") return session.share !== undefined && facts.shareLive(session.share) ? { allowed: true, via: "share" } : { allowed: false, reason: "share-ended" };
  switch (policy.mode) {
    case "owner":
      return session.via === "owner" ? { allowed: true, via: "owner" } : { allowed: false, reason: "not-owner" };
    case "password":
      if (session.via !== "password") return { allowed: false, reason: "no-session" };
      return session.stamp !== undefined && session.stamp === facts.passwordStamp ? { allowed: true, via: "password" } : { allowed: false, reason: "password-changed" };
    case "signin":
      if (session.via !== "signin") return { allowed: false, reason: "no-session" };
      return personAllowed(policy.allow, facts.admins, session.email, session.groups ?? []) ? { allowed: true, via: "signin" } : { allowed: false, reason: "not-allowed" };
  }
}

/** Checked at every request, not only at sign-in: a person taken off the list is out at their next page. */
export function personAllowed(allow: AccessAllow | undefined, admins: AccessFacts["admins"], email: string | undefined, groups: readonly string[]): boolean {
  const address = email?.toLowerCase();
  const domain = address?.includes("@") ? address.slice(address.lastIndexOf("@") + 1) : undefined;
  if (address && (admins.emails.includes(address) || allow?.emails.includes(address))) return true;
  if (domain && allow?.domains.includes(domain)) return true;
  return groups.some((group) => admins.groups.includes(group) || allow?.groups.includes(group) === true);
}

/** Words for a refusal, on the page a refused person sees. */
export function refusalText(reason: RefusalReason): string {
  switch (reason) {
    case "no-session": return "This demo is not public.";
    case "other-host": return "Your pass belongs to another demo.";
    case "not-allowed": return "Your account is not on this demo's list.";
    case "share-ended": return "The share link you came with has ended or was revoked.";
    case "password-changed": return "The password of this demo was changed.";
    case "signed-out": return "You signed out of this demo.";
    case "not-owner": return "This demo belongs to someone else.";
    case "no-password": return "This demo needs a password, and none is set yet. Ask the person who runs it.";
  }
}

/** A demo's policy: a shared demo's own, else its app's or preview source's; owner only for visitors' demos. */
export function policyFor(kind: "visitor" | "preview" | "shared", spec: { access?: AccessPolicy | undefined } | undefined, sharedAccess: AccessPolicy | undefined): AccessPolicy {
  const policy = (kind === "shared" ? sharedAccess : undefined) ?? spec?.access ?? PUBLIC;
  return policy.mode === "owner" && kind !== "visitor" ? PUBLIC : policy;
}
