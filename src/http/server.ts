// The controller's HTTP surface: landing page, launch, the demo-host pages, and the JSON API.
import { readFile } from "node:fs/promises";
import path from "node:path";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import formbody from "@fastify/formbody";
import type { Config } from "../config/load.js";
import type { DemoEngine } from "../core/engine.js";
import { ProblemError } from "../core/errors.js";
import { parseDuration } from "../core/duration.js";
import { viewOf, type Demo } from "../core/model.js";
import { hostFor, ID_PATTERN, idFromHost, normalizeHost } from "../core/naming.js";
import type { EndedDemo } from "../core/runtime.js";
import type { Logger } from "../logger.js";
import { clientAddress, clientKey, isDirectLoopback, tokenMatches } from "./client.js";
import { Pages } from "./pages.js";
import { fromFrameworkError, sendProblem } from "./problem.js";

export interface ServerDeps {
  config: Config;
  engine: DemoEngine;
  logger: Logger;
  templatesDir: string;
  /** Extra facts for /api/status (the watcher's last outcome). */
  status: () => Promise<Record<string, unknown>>;
}

export function publicOrigin(config: Config, host: string): string {
  const port = config.publicPort ?? config.nginx.listen.port;
  const defaultPort = config.publicScheme === "https" ? 443 : 80;
  return `${config.publicScheme}://${host}${port === defaultPort ? "" : `:${port}`}`;
}

const NO_STORE = "no-store";

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

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, engine } = deps;
  const apexUrl = publicOrigin(config, config.domain);
  const pages = new Pages(deps.templatesDir, config.templatesDir, { brand: config.brand, apexUrl });
  // Read once: a missing asset or logo is a start-up error, not a broken page later.
  const scripts = { launch: pages.asset("launch.js"), status: pages.asset("status.js"), banner: pages.asset("banner.js") };
  const logo = config.brand.logo ? { body: await readFile(config.brand.logo), type: LOGO_TYPES[path.extname(config.brand.logo).toLowerCase()] ?? "application/octet-stream" } : undefined;
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, trustProxy: false, routerOptions: { maxParamLength: 2000 }, return503OnClosing: true, clientErrorHandler: answerUnparsableRequest });
  await app.register(formbody, { bodyLimit: 4 * 1024 });

  const urlOf = (demo: Demo) => `${publicOrigin(config, demo.host)}/`;
  const viewFor = (demo: Demo) => viewOf(demo, urlOf(demo), Date.now(), engine.queueInfo(demo.id));
  const endedView = (ended: EndedDemo) => {
    const host = hostFor(ended.id, config.domain);
    return { id: ended.id, app: ended.app, host, url: `${publicOrigin(config, host)}/`, status: ended.status, reason: ended.reason, endedAt: new Date(ended.endedAt).toISOString() };
  };
  const wantsHtml = (request: FastifyRequest) => /text\/html/.test(String(request.headers.accept ?? ""));

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const problem = error instanceof ProblemError ? error : fromFrameworkError(error);
    if (problem) return sendProblem(reply, problem, request.url.slice(0, 200));
    deps.logger.error(`${request.method} ${request.url.slice(0, 200)}: ${error.message}`);
    return reply.code(500).type("application/problem+json").send({ type: "about:blank", title: "Internal error", status: 500, detail: "Something went wrong on our side; it has been logged." });
  });
  app.setNotFoundHandler((request, reply) => {
    if (wantsHtml(request)) return reply.code(404).type("text/html; charset=utf-8").send(pages.problem("Page not found", "There is nothing at this address."));
    return sendProblem(reply, new ProblemError("not-found", `Nothing at ${request.method} ${request.url.slice(0, 100)}.`));
  });

  /** With a token: the token. Without one: only straight from this machine, never through nginx. */
  function isAdmin(request: FastifyRequest): boolean {
    if (!config.adminToken) return isDirectLoopback(request);
    const header = String(request.headers.authorization ?? "");
    return tokenMatches(header.startsWith("Bearer ") ? header.slice(7) : undefined, config.adminToken);
  }

  function requireAdmin(request: FastifyRequest): void {
    if (isAdmin(request)) return;
    throw new ProblemError("unauthorized", config.adminToken ? "This needs the admin token: send `Authorization: Bearer <token>`." : "Admin actions need an admin token (set adminToken or DEMO_LAUNCHER_ADMIN_TOKEN).");
  }

  /** Our own pages (the apex, a demo host's relaunch button) and the operator's allowed sites. */
  function originAllowed(origin: string): boolean {
    if (origin === apexUrl || config.allowedOrigins.includes(origin)) return true;
    try {
      const url = new URL(origin);
      return url.origin === publicOrigin(config, url.hostname) && idFromHost(url.hostname, config.domain) !== undefined;
    } catch {
      return false;
    }
  }

  /** Launches change state: only by POST, and a browser's Origin must be one we trust (CSRF). */
  function assertSameOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin === undefined || originAllowed(String(origin))) return;
    const allowed = config.allowedOrigins.length ? `${apexUrl}, its demos and ${config.allowedOrigins.join(", ")}` : `${apexUrl} and its demos`;
    throw new ProblemError("forbidden", `Launches are accepted only from ${allowed}, not from ${String(origin).slice(0, 100)}.`);
  }

  function launchFor(request: FastifyRequest, appName: unknown) {
    assertSameOrigin(request);
    // An operator launching on purpose (CLI, scripts) is not held to the per-visitor limit.
    return engine.launch(appName, isAdmin(request) ? undefined : clientKey(clientAddress(request, config.trustedProxies)));
  }

  // Through nginx, only our own names are answered: a forged or garbled Host gets a clear 421, not the landing page.
  app.addHook("onRequest", async (request) => {
    const given = String(request.headers.host ?? "");
    if (normalizeHost(given) === config.domain || idFromHost(given, config.domain) || isDirectLoopback(request)) return;
    throw new ProblemError("misdirected", `This server answers for ${config.domain} and its demos, not for ${JSON.stringify(given.slice(0, 100))}.`);
  });

  // Demo hosts: every request the nginx map did not route lands here and gets a page saying why.
  app.addHook("onRequest", async (request, reply) => {
    const id = idFromHost(request.headers.host, config.domain);
    if (!id) return;
    const path = request.url.split("?")[0];
    if (path === "/__demo/status.js" || path === "/__demo/banner.js") {
      return reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(path === "/__demo/status.js" ? scripts.status : scripts.banner);
    }
    reply.header("cache-control", NO_STORE);
    const demo = engine.get(id);
    const ended = demo ? undefined : engine.getEnded(id);
    // A page or a poll about a queued demo shows that its visitor is still waiting.
    if (demo) engine.touch(id);
    if (path === "/__demo/status.json") {
      if (demo) return reply.send(viewFor(demo));
      if (ended) return reply.send(endedView(ended));
      return sendProblem(reply, new ProblemError("not-found", "There is no demo at this address."));
    }
    reply.type("text/html; charset=utf-8");
    if (demo?.status === "queued") {
      const queue = engine.queueInfo(id) ?? { position: 1, estimatedWaitSeconds: 0 };
      return reply.code(503).header("retry-after", "5").send(pages.queued(queue.position, queue.estimatedWaitSeconds));
    }
    if (demo?.status === "starting") return reply.code(503).header("retry-after", "1").send(pages.starting(demo));
    if (demo) return reply.code(200).send(pages.ready());
    if (ended) return reply.code(410).send(pages.ended(ended, Object.hasOwn(config.apps, ended.app)));
    return reply.code(404).send(pages.unknown());
  });

  // Cross-origin launches from the operator's own site (allowedOrigins): answer the preflight, label the answers.
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !(request.url.startsWith("/api/demos") || request.url.startsWith("/launch"))) return;
    reply.header("vary", "Origin");
    if (!originAllowed(String(origin))) return;
    reply.header("access-control-allow-origin", String(origin));
    if (request.method === "OPTIONS") {
      return reply.code(204).header("access-control-allow-methods", "POST, GET").header("access-control-allow-headers", "content-type").header("access-control-max-age", "600").send();
    }
  });

  app.get("/assets/launch.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(scripts.launch));
  app.get("/assets/logo", async (_request, reply) => {
    if (!logo) throw new ProblemError("not-found", "No logo is configured.");
    return reply.type(logo.type).header("cache-control", "public, max-age=3600").send(logo.body);
  });

  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(pages.landing(config.apps)));

  app.post("/launch", async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const { demo } = await launchFor(request, body.app);
      return reply.code(303).header("location", urlOf(demo)).header("cache-control", NO_STORE).send();
    } catch (error) {
      if (!(error instanceof ProblemError) || !wantsHtml(request)) throw error;
      if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
      return reply.code(error.status).type("text/html; charset=utf-8").send(pages.problem(error.title, error.message));
    }
  });

  app.get("/healthz", async () => ({ ok: true }));

  app.get("/api/apps", async () => ({
    apps: Object.entries(config.apps).map(([name, appConfig]) => ({ name, title: appConfig.title ?? name, description: appConfig.description ?? "", ttlSeconds: Math.round(appConfig.ttl / 1000) })),
  }));

  app.post("/api/demos", async (request, reply) => {
    if (!/^application\/json\b/i.test(String(request.headers["content-type"] ?? ""))) throw new ProblemError("unsupported-media-type", 'Send JSON with Content-Type: application/json, for example {"app":"hello"}.');
    const body = request.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ProblemError("bad-request", 'The body must be a JSON object such as {"app":"hello"}.');
    const unknownKeys = Object.keys(body).filter((key) => key !== "app");
    if (unknownKeys.length > 0) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(unknownKeys[0]!.slice(0, 40))}; allowed: app.`);
    const { demo, created } = await launchFor(request, (body as { app?: unknown }).app);
    return reply.code(created ? 201 : 200).header("location", `/api/demos/${demo.id}`).header("cache-control", NO_STORE).send(viewFor(demo));
  });

  app.get("/api/demos", async (request) => {
    requireAdmin(request);
    return { demos: engine.list().map(viewFor) };
  });

  function parseId(raw: string): string {
    if (!ID_PATTERN.test(raw)) throw new ProblemError("bad-request", `${JSON.stringify(raw.slice(0, 70))} is not a demo id (lowercase letters and digits).`);
    return raw;
  }

  app.get<{ Params: { id: string } }>("/api/demos/:id", async (request, reply) => {
    const id = parseId(request.params.id);
    reply.header("cache-control", NO_STORE);
    const demo = engine.get(id);
    if (demo) return viewFor(demo);
    const ended = engine.getEnded(id);
    if (ended) return endedView(ended);
    throw new ProblemError("not-found", `There is no demo ${id}.`);
  });

  app.post<{ Params: { id: string } }>("/api/demos/:id/extend", async (request, reply) => {
    requireAdmin(request);
    const id = parseId(request.params.id);
    const body = request.body as { by?: unknown } | null | undefined;
    const by = body && typeof body === "object" && typeof body.by === "string" ? parseDuration(body.by) : undefined;
    if (by === undefined) throw new ProblemError("bad-request", 'Send {"by":"<duration>"}, the duration as a number followed by s, m or h (for example 10m), from 1s to 24h.');
    reply.header("cache-control", NO_STORE);
    return viewFor(await engine.extend(id, by));
  });

  app.delete<{ Params: { id: string } }>("/api/demos/:id", async (request, reply) => {
    requireAdmin(request);
    const id = parseId(request.params.id);
    if (!(await engine.stop(id))) throw new ProblemError("not-found", `There is no live demo ${id}.`);
    return reply.code(204).send();
  });

  app.get("/api/status", async (request) => {
    requireAdmin(request);
    const demos = engine.list();
    return {
      demos: { total: demos.length, ready: demos.filter((demo) => demo.status === "ready").length, starting: demos.filter((demo) => demo.status === "starting").length },
      limits: config.limits,
      routesGeneration: engine.currentGeneration(),
      pool: engine.poolStatus(),
      docker: engine.dockerStatus(),
      ...(await deps.status()),
    };
  });

  // Our own pages load nothing from elsewhere: scripts and styles from the controller, images and
  // relaunch forms at most from the apex. Demos' own pages are not ours and keep their headers.
  // form-action also governs where a form's redirect may go: the launch answers 303 to a demo host.
  const demoHosts = publicOrigin(config, `*.${config.domain}`);
  const contentSecurityPolicy = `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' ${apexUrl} data:; connect-src 'self'; form-action 'self' ${apexUrl} ${demoHosts}; frame-ancestors 'none'; base-uri 'none'`;
  app.addHook("onSend", async (_request, reply, payload) => {
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
