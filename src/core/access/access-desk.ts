// The access state of gated demos: share links, passwords set per demo, sign-outs, and the gate each host shows nginx.
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "../app-spec.js";
import { parseDuration } from "../duration.js";
import type { Demo } from "../model.js";
import type { Cancel, Scheduler } from "../scheduler.js";
import { decideAccess, type AccessPolicy, type AccessVerdict, type HostSession } from "./policy.js";

export interface Share {
  id: string;
  demo: string;
  /** sha256 of the link's token: the token itself is shown once, when the link is made. */
  tokenHash: string;
  note: string;
  by: string;
  createdAt: number;
  expiresAt: number;
  /** Openings left for a link made for a few people (each opening becomes a session until the link's end); none: any. */
  usesLeft?: number;
}

/** What survives a restart (the state dir's access.json). */
export interface AccessState {
  version: 1;
  shares: Share[];
  /** Per-demo passwords set through the API: scrypt hashes and the stamp sessions carry. */
  passwords: Record<string, { hash: string; stamp: string }>;
  /** Each gated demo's gate generation: a change makes nginx ask again (its cached answers are keyed by it). */
  epochs: Record<string, number>;
  signedOut: Record<string, number>;
}

export interface AccessStore {
  load(): Promise<AccessState | undefined>;
  save(state: AccessState): Promise<void>;
}

export interface AccessDeskOptions {
  store: AccessStore;
  scheduler: Scheduler;
  logger: Logger;
  policyOf(demo: Demo): AccessPolicy;
  demo(id: string): Demo | undefined;
  admins: { emails: readonly string[]; groups: readonly string[] };
  /** Publishes the routes (with the new gates) and resolves once nginx serves them. */
  republish(): Promise<unknown>;
}

/** The gate of a demo under this policy at this epoch (`render` prints the same from the access file). */
export function gateFor(policy: AccessPolicy, epoch: number | undefined): string | undefined {
  return policy.mode === "public" ? undefined : `${policy.mode[0]}${epoch ?? 0}`;
}

const LONGEST_TIMER_MS = 86_400_000;

/** How long a share link may last: from a minute to a month. */
/** Where a share link opens its demo, on the demo's own host (the gate's route of the same path takes the token). */
export function sharePath(token: string): string {
  return `/__demo/access/share/${token}`;
}

export const SHARE_TTL = { minMs: 60_000, maxMs: 30 * 86_400_000, help: "a duration from 1m to 30d such as 3d" };

/** A share link's lifetime from what a person typed ("3d"); undefined when it is no duration or out of bounds. */
export function shareTtlOf(value: unknown): number | undefined {
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  return ms !== undefined && ms >= SHARE_TTL.minMs && ms <= SHARE_TTL.maxMs ? ms : undefined;
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");
/** A stamp names a password without revealing anything about it. */
const stampOf = (hash: string) => createHash("sha256").update(hash).digest("base64url").slice(0, 16);

export class AccessDesk {
  private state: AccessState = { version: 1, shares: [], passwords: {}, epochs: {}, signedOut: {} };
  private readonly ends = new Map<string, Cancel>();

  constructor(private readonly options: AccessDeskOptions) {}

  async start(): Promise<void> {
    const loaded = await this.options.store.load();
    if (loaded) this.state = loaded;
    for (const share of this.state.shares) this.armEnd(share);
  }

  close(): void {
    for (const cancel of this.ends.values()) cancel();
    this.ends.clear();
  }

  policyOf(demo: Demo): AccessPolicy {
    return this.options.policyOf(demo);
  }

  /** What nginx keys its cached answers with for this host; undefined for a public one (no check at all). */
  gateOf(demo: Demo): string | undefined {
    return gateFor(this.policyOf(demo), this.state.epochs[demo.id]);
  }

  /** `host`: the demo's own or one of its further routed services' (each holds its own session). */
  decide(demo: Demo, host: string, session: HostSession | undefined): AccessVerdict {
    const now = this.options.scheduler.now();
    return decideAccess({
      policy: this.policyOf(demo),
      host,
      session,
      admins: this.options.admins,
      shareLive: (id) => this.state.shares.some((share) => share.id === id && share.demo === demo.id && share.expiresAt > now),
      passwordStamp: this.passwordOf(demo)?.stamp,
      signedOut: (sid) => this.state.signedOut[sid] !== undefined,
    });
  }

  /** The password in force: one set for this demo through the API, else the config's. */
  passwordOf(demo: Demo): { hash: string; stamp: string } | undefined {
    const own = this.state.passwords[demo.id];
    if (own) return own;
    const hash = this.policyOf(demo).passwordHash;
    return hash ? { hash, stamp: stampOf(hash) } : undefined;
  }

  async setPassword(demo: Demo, hash: string): Promise<void> {
    this.state.passwords[demo.id] = { hash, stamp: stampOf(hash) };
    await this.changed(demo.id);
  }

  shares(demoId: string): Share[] {
    const now = this.options.scheduler.now();
    return this.state.shares.filter((share) => share.demo === demoId && share.expiresAt > now);
  }

  /** A new link; the token is answered here only (the state keeps its hash). */
  async createShare(demo: Demo, ttlMs: number, note: string, by: string, uses?: number): Promise<{ share: Share; token: string }> {
    const now = this.options.scheduler.now();
    const token = randomBytes(24).toString("base64url");
    const share: Share = { id: randomBytes(6).toString("hex"), demo: demo.id, tokenHash: hashToken(token), note, by, createdAt: now, expiresAt: now + ttlMs, ...(uses !== undefined ? { usesLeft: uses } : {}) };
    this.state.shares.push(share);
    this.armEnd(share);
    await this.save();
    this.options.logger.info(`access: ${by} made share link ${share.id} for ${demo.id}, until ${new Date(share.expiresAt).toISOString()}`, { demo: demo.id });
    return { share, token };
  }

  /** The live link a token stands for on this demo. */
  shareByToken(demoId: string, token: string): Share | undefined {
    const tokenHash = hashToken(token);
    const now = this.options.scheduler.now();
    return this.state.shares.find((share) => share.demo === demoId && share.tokenHash === tokenHash && share.expiresAt > now);
  }

  /** Opens a link: the live link of this token with an opening left (one is used up); undefined otherwise. */
  async openShare(demoId: string, token: string): Promise<Share | undefined> {
    const share = this.shareByToken(demoId, token);
    if (!share || share.usesLeft === 0) return undefined;
    if (share.usesLeft !== undefined) {
      share.usesLeft -= 1;
      await this.save();
    }
    return share;
  }

  /** Ends a link and every session it opened; resolves once nginx no longer answers from its cache for them. */
  async revokeShare(demoId: string, shareId: string, why: string): Promise<boolean> {
    const share = this.state.shares.find((entry) => entry.id === shareId && entry.demo === demoId);
    if (!share) return false;
    this.state.shares = this.state.shares.filter((entry) => entry !== share);
    this.ends.get(share.id)?.();
    this.ends.delete(share.id);
    this.options.logger.info(`access: share link ${share.id} of ${demoId} ${why}`, { demo: demoId });
    await this.changed(demoId);
    return true;
  }

  async signOut(demo: Demo, session: HostSession): Promise<void> {
    this.state.signedOut[session.sid] = session.exp;
    await this.changed(demo.id);
  }

  /** Forgets what belongs to demos that ended, and sign-outs of sessions that would have ended anyway. */
  async sweep(): Promise<void> {
    const now = this.options.scheduler.now();
    const live = (id: string) => this.options.demo(id) !== undefined;
    const before = JSON.stringify(this.state);
    for (const share of this.state.shares.filter((entry) => !live(entry.demo))) {
      this.ends.get(share.id)?.();
      this.ends.delete(share.id);
    }
    this.state.shares = this.state.shares.filter((share) => live(share.demo));
    for (const id of Object.keys(this.state.passwords)) if (!live(id)) delete this.state.passwords[id];
    for (const id of Object.keys(this.state.epochs)) if (!live(id)) delete this.state.epochs[id];
    for (const [sid, exp] of Object.entries(this.state.signedOut)) if (exp <= now) delete this.state.signedOut[sid];
    if (JSON.stringify(this.state) !== before) await this.save();
  }

  /**
   * At a link's end its sessions stop at once: the gate moves, so nginx's cached "yes" is not used again. A link of
   * weeks is looked at daily until then (a timer of over 24.8 days would fire at once in Node).
   */
  private armEnd(share: Share): void {
    const left = Math.max(0, share.expiresAt - this.options.scheduler.now());
    this.ends.set(share.id, this.options.scheduler.after(Math.min(left, LONGEST_TIMER_MS), () => {
      if (share.expiresAt > this.options.scheduler.now()) return this.armEnd(share);
      void this.revokeShare(share.demo, share.id, "reached its end").catch((error: unknown) => this.options.logger.warn(`access: ending share link ${share.id}: ${String(error)}`));
    }));
  }

  private async changed(demoId: string): Promise<void> {
    this.state.epochs[demoId] = (this.state.epochs[demoId] ?? 0) + 1;
    await this.save();
    await this.options.republish();
  }

  private save(): Promise<void> {
    return this.options.store.save(structuredClone(this.state));
  }
}
