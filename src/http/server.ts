// The controller's HTTP server: framework settings, errors as problem+json, host checks, and each area's routes.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import formbody from "@fastify/formbody";
import { idFromHost, normalizeHost } from "../core/routing/naming.js";
import { isDirectLoopback, VisitorKeys } from "./client.js";
import { createHttpContext, publicOrigin, type ServerDeps } from "./context.js";
import { Pages } from "./pages.js";
import { asProblem, ProblemError, sendProblem } from "./problem.js";
import { adminRoutes } from "./routes/admin.js";
import { buildRoutes } from "./routes/builds.js";
import { previewRoutes } from "./routes/previews.js";
import { previewScreenRoutes } from "./routes/preview-screens.js";
import { hookRoutes } from "./routes/hooks.js";
import { rewindRoutes } from "./routes/rewind.js";
import { sharedRoutes } from "./routes/shared.js";
import { metricsRoutes } from "./routes/metrics.js";
import { demoHostPages } from "./routes/demo-hosts.js";
import { acmeChallengeRoutes } from "./routes/acme-challenges.js";
import { visitorRoutes } from "./routes/visitors.js";
import { ConsoleAuth } from "./console/auth.js";
import { consoleRoutes } from "./console/routes.js";
import { Signer } from "./console/session.js";
import { loadOrCreateSecret } from "../files/secret.js";
import { accessGateRoutes } from "./access/gate.js";
import { HostSessions } from "./access/host-sessions.js";
import { accessApiRoutes } from "./access/shares.js";
import { accessSignInRoutes } from "./access/sign-in.js";
import type { AccessDesk } from "../core/access/access-desk.js";
import type { HttpContext } from "./context.js";

export { publicOrigin, type ServerDeps } from "./context.js";

/** A request Node's parser refused (an unknown method, a broken header) still gets problem+json, then a close. */
function answerUnparsableRequest(error: Error & { code?: string }, socket: import("node:net").Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ type: "about:blank", title: "Bad request", status: 400, detail: `The request could not be parsed (${error.code ?? "malformed"}).` });
  socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
const LOGO_TYPES: Record<string, string> = { ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp" };

/** What a request id may look like: nginx's are 32 hex digits. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const apexUrl = publicOrigin(config, config.domain);
  const pages = new Pages(deps.templatesDir, config.templatesDir, { brand: config.brand, apexUrl });
  // Read once: a missing asset or logo is a start-up error, not a broken page later.
  const scripts = { launch: pages.asset("launch.js"), status: pages.asset("status.js"), banner: pages.asset("banner.js"), preview: pages.asset("preview.js") };
  const logo = config.brand.logo ? { body: await readFile(config.brand.logo), type: LOGO_TYPES[path.extname(config.brand.logo).toLowerCase()] ?? "application/octet-stream" } : undefined;
  const auth = new ConsoleAuth(config, new Signer(await loadOrCreateSecret(path.join(config.stateDir, "console.key")), () => deps.engine.now()));
  // Visitor keys are keyed with a secret of this install, so the labels and the state file keep no address.
  const visitorKeys = new VisitorKeys(await loadOrCreateSecret(path.join(config.stateDir, "visitor.key")), { ipv4: config.limits.perNetwork.ipv4, ipv6: config.limits.perNetwork.ipv6 });
  const ctx = createHttpContext(deps, pages, scripts, auth, visitorKeys);
  const app = Fastify({
    // nginx's $request_id (or a caller's own) names the request, so one launch can be followed through the log.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomBytes(8).toString("hex");
    },
    logger: false, bodyLimit: 16 * 1024, trustProxy: false, routerOptions: { maxParamLength: 2000 }, return503OnClosing: true, clientErrorHandler: answerUnparsableRequest });
  await app.register(formbody, { bodyLimit: 4 * 1024 });
  refuseProtoKeysByName(app);

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const problem = asProblem(error);
    if (problem) return sendProblem(reply, problem, request.url.slice(0, 200));
    deps.logger.error(`${request.method} ${request.url.slice(0, 200)}: ${error.message}`);
    return reply.code(500).type("application/problem+json").send({ type: "about:blank", title: "Internal error", status: 500, detail: "Something went wrong on our side; it has been logged." });
  });
  app.setNotFoundHandler((request, reply) => {
    if (ctx.wantsHtml(request)) return reply.code(404).type("text/html; charset=utf-8").send(pages.problem("Page not found", "There is nothing at this address."));
    return sendProblem(reply, new ProblemError("not-found", `Nothing at ${request.method} ${request.url.slice(0, 100)}.`));
  });

  // Through nginx, only our own names are answered (demos' own names outside the domain too): a forged or garbled
  // Host gets a clear 421, not the landing page.
  app.addHook("onRequest", async (request) => {
    const given = String(request.headers.host ?? "");
    const host = normalizeHost(given);
    if (host === config.domain || host === config.admin.host || idFromHost(given, config.domain) || ctx.ownHostDemo(host) || isDirectLoopback(request)) return;
    throw new ProblemError("misdirected", `This server answers for ${config.domain} and its demos, not for ${JSON.stringify(given.slice(0, 100))}.`);
  });

  // First: a gated host's every path is refused here before any page of ours answers on it.
  if (deps.access) registerAccess(app, ctx, deps.access);
  acmeChallengeRoutes(app, ctx, deps.acme);
  demoHostPages(app, ctx, logo);
  visitorRoutes(app, ctx, logo);
  adminRoutes(app, ctx);
  rewindRoutes(app, ctx);
  sharedRoutes(app, ctx);
  metricsRoutes(app, ctx, deps.metrics);
  buildRoutes(app, ctx, deps.builds);
  previewRoutes(app, ctx);
  previewScreenRoutes(app, ctx);
  hookRoutes(app, ctx, deps.forges ?? {});
  consoleRoutes(app, ctx, { script: pages.asset("console.js"), style: pages.asset("console.css") });

  // Our own pages load nothing from elsewhere: scripts and styles from the controller, images and
  // relaunch forms at most from the apex. Demos' own pages are not ours and keep their headers.
  // form-action also governs where a form's redirect may go: the launch answers 303 to a demo host.
  const demoHosts = publicOrigin(config, `*.${config.domain}`);
  const contentSecurityPolicy = `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' ${apexUrl} data:; connect-src 'self'; form-action 'self' ${apexUrl} ${demoHosts}; frame-ancestors 'none'; base-uri 'none'`;
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-request-id", request.id);
    if (String(reply.getHeader("content-type") ?? "").startsWith("text/html")) {
      reply.header("content-security-policy", contentSecurityPolicy);
      reply.header("x-frame-options", "DENY");
    }
    reply.header("x-content-type-options", "nosniff");
    // Not "same-origin": with it browsers send `Origin: null` on the relaunch form, which posts to the apex.
    reply.header("referrer-policy", "strict-origin-when-cross-origin");
    return payload;
  });

  return app;
}

/** Gated demos: nginx's check and the ways in on their hosts, the sign-in round trip, the share-link API, owner launches. */
function registerAccess(app: FastifyInstance, ctx: HttpContext, desk: AccessDesk): void {
  const sessions = new HostSessions(ctx.auth.signer, () => ctx.engine.now());
  const oidc = ctx.config.admin.oidc;
  const parts = { desk, sessions, ...(oidc ? { issuer: new URL(oidc.issuer).host } : {}), ...(ctx.metrics ? { counted: (result: "allowed" | "refused", reason: string) => ctx.metrics!.accessChecked(result, reason) } : {}) };
  accessGateRoutes(app, ctx, parts);
  accessSignInRoutes(app, ctx, parts);
  accessApiRoutes(app, ctx, parts);
  // An owner's demo opens in the browser that launched it: the launch answers a one-time link that sets its cookie.
  ctx.entryUrlOf = (demo) => {
    if (desk.policyOf(demo).mode !== "owner") return ctx.urlOf(demo);
    const lifetime = Math.max(demo.expiresAt - ctx.engine.now(), 0) + 86_400_000;
    return `${ctx.urlOf(demo)}__demo/access/finish?code=${sessions.code({ host: demo.host, via: "owner" }, lifetime)}`;
  };
}

/**
 * Fastify's JSON parser refuses `__proto__` and `constructor.prototype` keys (prototype pollution) with the same
 * words as broken JSON. Such a body is valid JSON, refused on purpose: the answer says so.
 */
function refuseProtoKeysByName(app: FastifyInstance): void {
  const standard = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    standard(request, body as string, (error: Error | null, value?: unknown) => {
      if (error && isJson(body as string)) return done(new ProblemError("bad-request", 'The JSON body has a "__proto__" or "constructor.prototype" key; such keys are refused (they could change objects the server shares). Send the same fields without it.'), undefined);
      done(error, value);
    });
  });
}

/** Whether the text parses as JSON (a body refused for its keys, not for its syntax; the chaos suite's state file). */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
