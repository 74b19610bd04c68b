// Signing in to a gated demo: through the controller's host (the one redirect address the provider knows), the
// console's OpenID provider (PKCE, state, nonce), then back to the demo's host with a one-time code.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import { personAllowed } from "../../core/access/policy.js";
import { describeError } from "../../core/errors.js";
import { publicOrigin, NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";
import { OidcSignIn, SignInRefused } from "../console/oidc.js";
import { hostCookie, readCookie } from "../console/session.js";
import { demoOfHost, safeReturnPath, type AccessParts } from "./gate.js";
import { ACCESS_SIGN_IN_COOKIE } from "./host-sessions.js";

const SIGN_IN_WINDOW_MS = 10 * 60_000;

interface PendingDemoSignIn {
  state: string;
  nonce: string;
  verifier: string;
  host: string;
  to: string;
  exp: number;
}

export function accessSignInRoutes(app: FastifyInstance, ctx: HttpContext, parts: AccessParts): void {
  const settings = ctx.config.admin.oidc;
  if (!settings) return;
  const oidc = new OidcSignIn(settings, `${ctx.auth.origin}/__access/callback`);
  const admins = { emails: settings.allowedEmails, groups: settings.allowedGroups };
  const b64 = () => randomBytes(32).toString("base64url");

  const page = (reply: FastifyReply, status: number, title: string, message: string) =>
    reply.code(status).type("text/html; charset=utf-8").header("cache-control", NO_STORE).header("set-cookie", hostCookie(ACCESS_SIGN_IN_COOKIE, "", 0, "Lax")).send(ctx.pages.problem(title, message));

  app.get<{ Querystring: { host?: string; to?: string } }>("/__access/start", async (request, reply) => {
    if (!ctx.auth.onConsoleHost(request)) throw new ProblemError("not-found", "Signing in to a demo starts on the controller's own host.");
    const target = demoOfHost(ctx, request.query.host);
    if (!target || parts.desk.policyOf(target.demo).mode !== "signin") return page(reply, 400, "Nothing to sign in to", "That address is not a demo opened by signing in (it may have ended).");
    const pending: PendingDemoSignIn = { state: b64(), nonce: b64(), verifier: b64() + b64(), host: target.host, to: safeReturnPath(request.query.to), exp: ctx.engine.now() + SIGN_IN_WINDOW_MS };
    try {
      const url = await oidc.authorizationUrl(pending);
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      return reply.header("set-cookie", hostCookie(ACCESS_SIGN_IN_COOKIE, ctx.auth.signer.sign("access-sign-in", pending), SIGN_IN_WINDOW_MS / 1000, "Lax")).header("cache-control", NO_STORE).redirect(url, 303);
    } catch (error) {
      ctx.logger.warn(`demo sign-in: ${describeError(error)}`);
      return page(reply, 502, "Signing in is not possible right now", `${describeError(error)}.`);
    }
  });

  app.get<{ Querystring: Record<string, string | undefined> }>("/__access/callback", async (request, reply) => {
    if (request.query.error) return page(reply, 403, "Not signed in", `The provider did not sign you in (${String(request.query.error).slice(0, 80)}).`);
    const pending = ctx.auth.signer.verify<PendingDemoSignIn>("access-sign-in", readCookie(request.headers.cookie, ACCESS_SIGN_IN_COOKIE));
    if (!pending) return page(reply, 400, "Start again", "This sign-in was not started here or took too long. Open the demo's address again.");
    if (request.query.state !== pending.state) return page(reply, 400, "Start again", "This sign-in answer does not belong to the sign-in started in this browser (state). Open the demo's address again.");
    const target = demoOfHost(ctx, pending.host);
    const policy = target ? parts.desk.policyOf(target.demo) : undefined;
    if (!target || policy?.mode !== "signin") return page(reply, 410, "The demo is gone", "The demo you signed in for has ended.");
    try {
      const person = await oidc.finish(new URL(request.url, ctx.auth.origin), pending);
      const who = person.email ?? person.subject;
      if (!personAllowed(policy.allow, admins, person.email, person.groups)) {
        parts.counted?.("refused", "not-allowed");
        ctx.logger.warn(`access: ${who} may not open ${target.host}: not in its access.allow (nor an admin)`, { demo: target.demo.id });
        const domains = policy.allow?.domains.length ? ` or an address at ${policy.allow.domains.join(", ")}` : "";
        return page(reply, 403, "Not on this demo's list", `${who} may not open ${target.host}: it is open to the people and groups its owners listed${domains}. Ask them to add you.`);
      }
      const code = parts.sessions.code({ host: target.host, via: "signin", who, ...(person.email ? { email: person.email } : {}), groups: person.groups }, ctx.config.admin.session);
      const query = new URLSearchParams({ code, to: pending.to });
      return reply.header("set-cookie", hostCookie(ACCESS_SIGN_IN_COOKIE, "", 0, "Lax")).header("cache-control", NO_STORE).redirect(`${publicOrigin(ctx.config, target.host)}/__demo/access/finish?${query}`, 303);
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      ctx.logger.warn(`demo sign-in refused: ${error.message}`);
      return page(reply, 400, "Signing in did not work", `${error.message}.`);
    }
  });
}
