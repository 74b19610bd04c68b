// The console's sign-in and sign-out: through the OpenID provider, with the admin token, or from this machine.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { describeError } from "../../core/errors.js";
import { isDirectLoopback, tokenMatches } from "../client.js";
import { FailedTries } from "../failed-tries.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { OidcSignIn, SignInRefused } from "./oidc.js";
import { hostCookie, readCookie, SESSION_COOKIE, SIGN_IN_COOKIE, type Session } from "./session.js";

/** Time to pass the provider's pages. */
const SIGN_IN_WINDOW_MS = 10 * 60_000;
/** Wrong tokens a client may try in a window before it waits: guessing a 16+ character token stays hopeless. */
const TOKEN_TRIES = 10;
const TOKEN_WINDOW_MS = 10 * 60_000;

export function signInRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config, auth, pages } = ctx;
  const oidc = config.admin.oidc ? new OidcSignIn(config.admin.oidc, `${auth.origin}/__admin/callback`) : undefined;
  const failedTokens = new FailedTries(TOKEN_TRIES, TOKEN_WINDOW_MS);

  const page = (reply: FastifyReply, status: number, request: FastifyRequest, message?: string) =>
    reply.code(status).type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(
      pages.signIn({
        message,
        oidc: oidc ? { issuer: oidc.issuerHost } : undefined,
        token: !oidc && config.adminToken !== undefined,
        local: !oidc && !config.adminToken && isDirectLoopback(request),
      }),
    );

  const startSession = (reply: FastifyReply, who: string, via: Session["via"]) => {
    const { value } = auth.signer.newSession(who, via, config.admin.session);
    return reply
      .header("set-cookie", [hostCookie(SESSION_COOKIE, value, config.admin.session / 1000, "Strict"), hostCookie(SIGN_IN_COOKIE, "", 0, "Lax")])
      .header("cache-control", NO_STORE);
  };

  app.get("/__admin/sign-in", async (request, reply) => page(reply, 200, request));

  app.get("/__admin/sign-in/start", async (request, reply) => {
    if (!oidc) return reply.redirect("/__admin/sign-in", 303);
    const { pending, value } = auth.signer.pendingSignIn(SIGN_IN_WINDOW_MS);
    try {
      const url = await oidc.authorizationUrl(pending);
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      return reply.header("set-cookie", hostCookie(SIGN_IN_COOKIE, value, SIGN_IN_WINDOW_MS / 1000, "Lax")).header("cache-control", NO_STORE).redirect(url, 303);
    } catch (error) {
      ctx.logger.warn(`console sign-in: ${describeError(error)}`);
      return page(reply, 502, request, `Signing in is not possible right now: ${describeError(error)}.`);
    }
  });

  app.get<{ Querystring: Record<string, string | undefined> }>("/__admin/callback", async (request, reply) => {
    if (!oidc) return reply.redirect("/__admin/sign-in", 303);
    if (request.query.error) return page(reply, 403, request, `The provider did not sign you in (${String(request.query.error).slice(0, 80)}).`);
    const pending = auth.signer.signIn(readCookie(request.headers.cookie, SIGN_IN_COOKIE));
    if (!pending) return page(reply, 400, request, "This sign-in was not started here or took too long. Start again.");
    // Checked before the provider is asked: a callback that is not the answer to our own request is refused outright.
    if (request.query.state !== pending.state) return page(reply, 400, request, "This sign-in answer does not belong to the sign-in started in this browser (state). Start again.");
    try {
      const person = await oidc.finish(new URL(request.url, auth.origin), pending);
      const who = person.email ?? person.subject;
      if (!person.allowed) {
        ctx.logger.warn(`console sign-in refused for ${who}: not in admin.oidc.allowedEmails or allowedGroups`);
        return page(reply.header("set-cookie", hostCookie(SIGN_IN_COOKIE, "", 0, "Lax")), 403, request, `${who} may not use this console. Ask the operator to add the address to admin.oidc.allowedEmails (or a group of yours to allowedGroups).`);
      }
      ctx.logger.info(`console: ${who} signed in`);
      // A page, not a redirect: after the provider's cross-site redirect a Strict cookie would not go along.
      return startSession(reply, who, "oidc").code(200).type("text/html; charset=utf-8").send(pages.signedIn());
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      ctx.logger.warn(`console sign-in refused: ${error.message}`);
      return page(reply, 400, request, `Signing in did not work: ${error.message}.`);
    }
  });

  app.post("/__admin/sign-in", async (request, reply) => {
    if (!auth.sameOrigin(request)) return page(reply, 403, request, "Sign in from the console's own page.");
    const key = ctx.visitorKey(request);
    const now = ctx.engine.now();
    const wait = failedTokens.waitSeconds(key, now);
    if (wait !== undefined) return page(reply.header("retry-after", String(wait)), 429, request, "Too many wrong tokens from your address. Wait a few minutes.");
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!oidc && config.adminToken && typeof body.token === "string" && tokenMatches(body.token, config.adminToken)) {
      failedTokens.succeeded(key);
      ctx.logger.info("console: signed in with the admin token");
      return startSession(reply, "admin token", "token").redirect("/__admin/", 303);
    }
    if (!oidc && !config.adminToken && isDirectLoopback(request) && body.local === "1") return startSession(reply, "this machine", "local").redirect("/__admin/", 303);
    failedTokens.failed(key, now);
    return page(reply, 401, request, oidc ? "Sign in through the provider." : "That is not the admin token.");
  });

  app.post("/__admin/sign-out", async (request, reply) => {
    const session = auth.session(request);
    if (session && auth.sameOrigin(request) && auth.signer.csrfMatches(session, (request.body as Record<string, unknown> | undefined)?.csrf)) auth.signer.revoke(session);
    else if (session) return page(reply, 403, request, "Sign out from the console's own page.");
    return reply.header("set-cookie", hostCookie(SESSION_COOKIE, "", 0, "Strict")).header("cache-control", NO_STORE).redirect("/__admin/sign-in", 303);
  });
}
