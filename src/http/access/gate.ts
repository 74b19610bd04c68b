// A gated demo host's side of the controller: nginx's check, the refusal page on every path, and the ways in
// (a one-time code from the sign-in or the launch, the password form, a share link) and out (sign-out).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SHARE_TTL, sharePath, shareTtlOf, type AccessDesk } from "../../core/access/access-desk.js";
import { refusalText, type AccessVerdict, type HostSession, type RefusalReason } from "../../core/access/policy.js";
import type { Demo, LaunchStep } from "../../core/model.js";
import { parsePreviewLabel } from "../../core/previews/preview-names.js";
import { furtherHost, idFromHost, normalizeHost } from "../../core/routing/naming.js";
import { servesNow } from "../../core/routing/routes.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { sendProblem, ProblemError } from "../problem.js";
import type { HostSessions } from "./host-sessions.js";
import { passwordMatches } from "./passwords.js";
import { FailedTries } from "../failed-tries.js";

/** nginx keeps a "yes" this long at most (and never past the session's end). */
const CACHE_SECONDS = 5;
/**
 * nginx's check for a demo whose container is starting waits this long for its app before saying no (then the
 * starting page answers): a launch that takes less lands on the app itself at the moment it answers, with no
 * starting page in between and no poll's gap, and a browser's request costs one check instead of a poll loop.
 */
export const HOLD_WHILE_STARTING_MS = 2_000;
/** The steps of a start that last about as long as a container's start and its app's boot (not a seed's load). */
const HELD_STEPS: ReadonlySet<LaunchStep> = new Set(["creating", "starting", "waiting-for-app"]);
/** Wrong passwords one visitor may try on one host in a window before waiting. */
const PASSWORD_TRIES = 5;
const PASSWORD_WINDOW_MS = 15 * 60_000;

export interface AccessParts {
  desk: AccessDesk;
  sessions: HostSessions;
  /** The provider's host for the sign-in button, when admin.oidc is set. */
  issuer?: string;
  /** Counts checks by result and reason (metrics). */
  counted?: (result: "allowed" | "refused", reason: string) => void;
}

/** The demo a Host names: its own host, or one of its further routed services' (`api-<id>.<domain>`). */
export function demoOfHost(ctx: HttpContext, hostHeader: string | undefined): { demo: Demo; host: string } | undefined {
  const host = normalizeHost(String(hostHeader ?? ""));
  const id = idFromHost(host, ctx.config.domain);
  if (!id) return undefined;
  const own = ctx.engine.get(id);
  if (own) return { demo: own, host };
  const dash = id.indexOf("-");
  const base = dash > 0 ? ctx.engine.get(id.slice(dash + 1)) : undefined;
  if (base && furtherHost(id.slice(0, dash), base.host) === host) return { demo: base, host };
  // A preview host before its demo exists (its build's page and log) is its source's, and gated like it.
  const preview = parsePreviewLabel(id);
  if (preview && Object.hasOwn(ctx.config.previews, preview.source)) return { demo: { id, kind: "preview", app: preview.source, host, createdAt: 0, expiresAt: 0, status: "starting", step: "queued", instances: [] }, host };
  return undefined;
}

/** Paths of a gated host anyone may fetch: the ways in, and our scripts and icon (they tell nothing of the demo). */
function alwaysOpen(url: string): boolean {
  const path = url.split("?")[0]!;
  return path.startsWith("/__demo/access/") || path === "/__demo/status.js" || path === "/__demo/banner.js" || path === "/__demo/preview.js" || path === "/favicon.ico";
}

/** Where to go after the way in: a path of this host only (never `//elsewhere`). */
export function safeReturnPath(raw: unknown): string {
  const text = typeof raw === "string" ? raw : "/";
  return text.startsWith("/") && !text.startsWith("//") && !text.startsWith("/\\") && text.length <= 2000 && !/[\r\n]/.test(text) ? text : "/";
}

export function accessGateRoutes(app: FastifyInstance, ctx: HttpContext, parts: AccessParts): void {
  const { desk, sessions } = parts;
  const failedPasswords = new FailedTries(PASSWORD_TRIES, PASSWORD_WINDOW_MS);

  const verdictOf = (request: FastifyRequest): { target: { demo: Demo; host: string }; session: HostSession | undefined; verdict: AccessVerdict } | undefined => {
    const target = demoOfHost(ctx, request.headers.host);
    if (!target) return undefined;
    // A public demo's requests (its starting page's polls, say) need no cookie check at all.
    const session = desk.policyOf(target.demo).mode === "public" ? undefined : sessions.read(request.headers.cookie);
    return { target, session, verdict: desk.decide(target.demo, target.host, session) };
  };

  const refuse = (request: FastifyRequest, reply: FastifyReply, demo: Demo, reason: RefusalReason, message?: string, status = 401) => {
    const policy = desk.policyOf(demo);
    reply.header("cache-control", NO_STORE);
    if (!ctx.wantsHtml(request)) return sendProblem(reply, new ProblemError(status === 429 ? "rate-limited" : status === 403 ? "forbidden" : "unauthorized", `${message ?? refusalText(reason)} Open ${ctx.urlOf(demo)} in a browser to get in.`));
    const mode = policy.mode === "public" ? "none" : policy.mode === "signin" && !parts.issuer ? "none" : policy.mode;
    const page = ctx.pages.access({ mode, reason, message: message ?? (reason === "no-session" ? undefined : refusalText(reason)), to: safeReturnPath(request.url), app: demo.app, ...(parts.issuer ? { issuer: parts.issuer } : {}) });
    return reply.code(status).type("text/html; charset=utf-8").send(page);
  };

  /** A session on this host, then on to where the person was going. */
  const enter = (reply: FastifyReply, grant: Parameters<HostSessions["issue"]>[0], lifetimeMs: number, to: string) => {
    const { cookie } = sessions.issue(grant, lifetimeMs);
    return reply.header("set-cookie", cookie).header("cache-control", NO_STORE).redirect(to, 303);
  };

  /** Waits (at most HOLD_WHILE_STARTING_MS, and not past the client's going away) until a starting demo serves or ends. */
  const heldWhileStarting = async (id: string, reply: FastifyReply): Promise<void> => {
    const released = new AbortController();
    const cancel = ctx.engine.options.scheduler.after(HOLD_WHILE_STARTING_MS, () => released.abort());
    const gone = () => released.abort();
    reply.raw.once("close", gone);
    try {
      await ctx.engine.until(id, (demo) => demo === undefined || demo.status !== "starting" || !HELD_STEPS.has(demo.step) || servesNow(demo), released.signal);
    } finally {
      cancel();
      reply.raw.off("close", gone);
    }
  };

  // nginx's auth_request: 200 lets the request through (and may be kept a few seconds), 401 sends it to us.
  app.get("/__demo/access/check", async (request, reply) => {
    let found = verdictOf(request);
    reply.header("cache-control", NO_STORE);
    // A demo routed before its app answered: its request waits for the app a moment, then (still starting) goes
    // to the controller's starting page.
    if (found?.verdict.allowed && found.target.demo.status === "starting" && HELD_STEPS.has(found.target.demo.step)) {
      await heldWhileStarting(found.target.demo.id, reply);
      found = verdictOf(request);
    }
    if (!found) {
      parts.counted?.("refused", "no-demo");
      return reply.code(401).send();
    }
    const { verdict, session } = found;
    if (verdict.allowed && !servesNow(found.target.demo)) {
      parts.counted?.("refused", "starting");
      return reply.code(401).send();
    }
    parts.counted?.(verdict.allowed ? "allowed" : "refused", verdict.allowed ? verdict.via : verdict.reason);
    if (!verdict.allowed) return reply.code(401).send();
    const left = session ? Math.floor((session.exp - ctx.engine.now()) / 1000) : CACHE_SECONDS;
    return reply.code(200).header("x-accel-expires", String(Math.max(0, Math.min(CACHE_SECONDS, left)))).send();
  });

  // Every other path of a gated host that reaches us (nginx's "no", a starting demo's or a build's page, a 502
  // fallback, our pages under /__demo/ that show its state, log or reset it).
  app.addHook("onRequest", async (request, reply) => {
    if (alwaysOpen(request.url)) return;
    const found = verdictOf(request);
    if (!found || found.verdict.allowed) return;
    return refuse(request, reply, found.target.demo, found.verdict.reason, undefined, found.verdict.reason === "not-allowed" || found.verdict.reason === "not-owner" ? 403 : 401);
  });

  app.get<{ Querystring: { to?: string } }>("/__demo/access/sign-in", async (request, reply) => {
    const target = demoOfHost(ctx, request.headers.host);
    if (!target || desk.policyOf(target.demo).mode !== "signin" || !parts.issuer) throw new ProblemError("not-found", "This demo is not opened by signing in.");
    const query = new URLSearchParams({ host: target.host, to: safeReturnPath(request.query.to) });
    return reply.header("cache-control", NO_STORE).redirect(`${ctx.auth.origin}/__access/start?${query}`, 303);
  });

  // The last step of a sign-in or a launch: the code made on the controller's host becomes this host's cookie.
  app.get<{ Querystring: { code?: string; to?: string } }>("/__demo/access/finish", async (request, reply) => {
    const target = demoOfHost(ctx, request.headers.host);
    const redeemed = target && typeof request.query.code === "string" ? sessions.redeem(request.query.code, target.host) : undefined;
    if (!target || !redeemed) return reply.code(400).type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(ctx.pages.problem("This link was used already", "A sign-in link works once and for two minutes. Open the demo's address again."));
    ctx.logger.info(`access: ${redeemed.grant.who ?? redeemed.grant.via} entered ${target.host} (${redeemed.grant.via})`, { demo: target.demo.id });
    return enter(reply, redeemed.grant, redeemed.lifetimeMs, safeReturnPath(request.query.to));
  });

  app.post("/__demo/access/password", async (request, reply) => {
    const target = demoOfHost(ctx, request.headers.host);
    if (!target || desk.policyOf(target.demo).mode !== "password") throw new ProblemError("not-found", "This demo is not opened with a password.");
    const body = (request.body ?? {}) as Record<string, unknown>;
    const to = safeReturnPath(body.to);
    const key = `${ctx.visitorKey(request)} ${target.demo.id}`;
    const now = ctx.engine.now();
    const wait = failedPasswords.waitSeconds(key, now);
    if (wait !== undefined) {
      parts.counted?.("refused", "rate-limited");
      reply.header("retry-after", String(wait));
      return refuse(request, reply, target.demo, "no-session", "Too many wrong passwords from your address. Wait a few minutes.", 429);
    }
    const password = desk.passwordOf(target.demo);
    if (password && typeof body.password === "string" && body.password.length <= 1024 && (await passwordMatches(body.password, password.hash))) {
      failedPasswords.succeeded(key);
      ctx.logger.info(`access: the password opened ${target.host}`, { demo: target.demo.id });
      return enter(reply, { host: target.host, via: "password", stamp: password.stamp }, ctx.config.admin.session, to);
    }
    failedPasswords.failed(key, now);
    parts.counted?.("refused", "wrong-password");
    ctx.logger.info(`access: a wrong password for ${target.host}`, { demo: target.demo.id });
    return refuse(request, reply, target.demo, password ? "no-session" : "no-password", password ? "That is not the password." : undefined, 401);
  });

  app.get<{ Params: { token: string } }>("/__demo/access/share/:token", async (request, reply) => {
    const target = demoOfHost(ctx, request.headers.host);
    const share = target ? await desk.openShare(target.demo.id, request.params.token) : undefined;
    if (!target || !share) {
      parts.counted?.("refused", "share-ended");
      return reply.code(404).type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(ctx.pages.problem("This share link has ended", "It was revoked, its time is over, or it was opened as often as it may be. Ask the person who sent it for a new one."));
    }
    ctx.logger.info(`access: share link ${share.id} opened ${target.host}`, { demo: target.demo.id });
    return enter(reply, { host: target.host, via: "share", share: share.id }, share.expiresAt - ctx.engine.now(), "/");
  });

  // The person's own page on a gated host: how they got in, sign-out, and share links for a signed-in member of a preview.
  const memberOf = (request: FastifyRequest) => {
    const found = verdictOf(request);
    if (!found?.session || !found.verdict.allowed) return undefined;
    const canShare = found.session.via === "signin" && found.target.demo.kind === "preview";
    return { ...found, session: found.session, canShare, csrf: ctx.auth.signer.csrfToken(found.session) };
  };
  const how = (session: HostSession) => (session.via === "signin" ? `signed in as ${session.who ?? "?"}` : session.via === "share" ? "with a share link" : session.via === "password" ? "with its password" : "as the browser that launched it");
  app.get("/__demo/access/", async (request, reply) => {
    const member = memberOf(request);
    if (!member) return reply.code(303).header("cache-control", NO_STORE).redirect("/", 303);
    return reply.type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(ctx.pages.accessHome({ host: member.target.host, how: how(member.session), canShare: member.canShare, csrf: member.csrf }));
  });

  app.post("/__demo/access/shares", async (request, reply) => {
    const member = memberOf(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const own = publicOrigin(ctx.config, member?.target.host ?? "");
    // A sibling demo shares our site (SameSite lets its forms carry the cookie): the session's own token must come along.
    if (!member?.canShare || (request.headers.origin !== undefined && request.headers.origin !== own) || !ctx.auth.signer.csrfMatches(member.session, body.csrf)) {
      throw new ProblemError("forbidden", "Share links of a preview are made from its own access page (/__demo/access/) by someone signed in to it.");
    }
    const ttl = shareTtlOf(body.ttl);
    if (ttl === undefined) throw new ProblemError("bad-request", `"ttl" must be ${SHARE_TTL.help}.`);
    const note = typeof body.note === "string" ? body.note.slice(0, 200) : "";
    const { share, token } = await desk.createShare(member.target.demo, ttl, note, member.session.who ?? "a member");
    const url = `${own}${sharePath(token)}`;
    return reply.type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(ctx.pages.accessHome({ host: member.target.host, how: how(member.session), canShare: true, csrf: member.csrf, link: { url, until: new Date(share.expiresAt).toISOString() } }));
  });

  app.post("/__demo/access/sign-out", async (request, reply) => {
    const found = verdictOf(request);
    if (found?.session && found.session.host === found.target.host) await desk.signOut(found.target.demo, found.session);
    return reply.header("set-cookie", sessions.cleared()).header("cache-control", NO_STORE).redirect("/", 303);
  });
}
