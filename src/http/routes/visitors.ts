// What visitors and the landing page use: the page, launches (form and JSON), the apps, assets and CORS.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { launchOwner, NO_STORE, type HttpContext } from "../context.js";
import { asProblem, ProblemError } from "../problem.js";

export function visitorRoutes(app: FastifyInstance, ctx: HttpContext, logo: { body: Buffer; type: string } | undefined): void {
  const { config, engine, pages, scripts } = ctx;

  function launchFor(request: FastifyRequest, appName: unknown) {
    ctx.assertSameOrigin(request);
    return engine.launch(appName, launchOwner(ctx, request), request.id);
  }

  // Cross-origin launches from the operator's own site (allowedOrigins): answer the preflight, label the answers.
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !(request.url.startsWith("/api/demos") || request.url.startsWith("/launch"))) return;
    reply.header("vary", "Origin");
    if (!ctx.originAllowed(String(origin))) return;
    reply.header("access-control-allow-origin", String(origin));
    if (request.method === "OPTIONS") {
      return reply.code(204).header("access-control-allow-methods", "POST, GET").header("access-control-allow-headers", "content-type").header("access-control-max-age", "600").send();
    }
  });

  app.get("/assets/launch.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(scripts.launch));
  // Every browser asks for it on every page: the brand's logo, or a letter on the accent colour (no 404 in the console).
  app.get("/favicon.ico", async (_request, reply) => sendFavicon(reply, config, logo));
  app.get("/assets/logo", async (_request, reply) => {
    if (!logo) throw new ProblemError("not-found", "No logo is configured.");
    return reply.type(logo.type).header("cache-control", "public, max-age=3600").send(logo.body);
  });

  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(pages.landing(config.apps)));

  app.post("/launch", async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const { demo, created } = await launchFor(request, body.app);
      return reply.code(303).header("location", created ? ctx.entryUrlOf(demo) : ctx.urlOf(demo)).header("cache-control", NO_STORE).send();
    } catch (error) {
      // The form works without JavaScript: a refusal is a page, not JSON.
      const problem = asProblem(error);
      if (!problem || !ctx.wantsHtml(request)) throw error;
      if (problem.retryAfterSeconds !== undefined) reply.header("retry-after", String(problem.retryAfterSeconds));
      return reply.code(problem.status).type("text/html; charset=utf-8").send(pages.problem(problem.title, problem.message));
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
    // An owner's demo: only the answer that made it carries the link that makes the launching browser its owner
    // (a second launch from the same address, another browser behind one NAT say, gets the plain address).
    const entryUrl = created ? ctx.entryUrlOf(demo) : ctx.urlOf(demo);
    return reply.code(created ? 201 : 200).header("location", `/api/demos/${demo.id}`).header("cache-control", NO_STORE).send({ ...ctx.viewFor(demo), ...(entryUrl !== ctx.urlOf(demo) ? { entryUrl } : {}) });
  });

  app.get<{ Params: { id: string } }>("/api/demos/:id", async (request, reply) => {
    const id = ctx.parseId(request.params.id);
    reply.header("cache-control", NO_STORE);
    const demo = engine.get(id);
    // Instances (containers, endpoints) are the operator's business; a visitor sees the demo.
    if (demo) return ctx.viewFor(demo, { withInstances: ctx.isAdmin(request) });
    const ended = engine.getEnded(id);
    if (ended) return ctx.endedView(ended);
    throw new ProblemError("not-found", `There is no demo ${id}.`);
  });
}

/** The brand's logo as the icon, or the drawn one; demo hosts nginx does not route answer it too. */
export function sendFavicon(reply: FastifyReply, config: HttpContext["config"], logo: { body: Buffer; type: string } | undefined): FastifyReply {
  if (logo) return reply.type(logo.type).header("cache-control", "public, max-age=86400").send(logo.body);
  return reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(brandIcon(config.brand.title, config.brand.accentColor));
}

/** A square icon: the first letter of the brand's title, white on its accent colour. */
export function brandIcon(title: string, accentColor: string): string {
  const letter = (title.trim()[0] ?? "D").toUpperCase().replace(/[<>&"']/g, "D");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${accentColor}"/><text x="16" y="23" font-family="system-ui,sans-serif" font-size="20" font-weight="700" text-anchor="middle" fill="#fff">${letter}</text></svg>`;
}
