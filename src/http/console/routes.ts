// The operator's console at /__admin/: its page and assets, its live state (JSON and server-sent events), on the console's host only.
import type { FastifyInstance } from "fastify";
import { normalizeHost } from "../../core/routing/naming.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";
import { LiveSnapshots } from "./live.js";
import { signInRoutes } from "./sign-in.js";
import { consoleSnapshot } from "./snapshot.js";

export function consoleRoutes(app: FastifyInstance, ctx: HttpContext, assets: { script: string; style: string }): LiveSnapshots {
  const { auth, pages } = ctx;
  const live = new LiveSnapshots(() => consoleSnapshot(ctx), undefined, ctx.engine.options.scheduler);
  ctx.engineEvents?.add(() => live.poke());
  // Open streams would hold the server's close until they end by themselves.
  app.addHook("preClose", async () => live.close());

  // A demo's host (or the apex, when admin.host moves the console away) never shows any of it.
  app.addHook("onRequest", async (request, reply) => {
    // A host of the console's own has nothing else to show.
    if (ctx.config.admin.host && request.url === "/" && normalizeHost(String(request.headers.host ?? "")) === ctx.config.admin.host) return reply.redirect("/__admin/", 303);
    if (!(request.url === "/__admin" || request.url.startsWith("/__admin/"))) return;
    if (!auth.onConsoleHost(request)) throw new ProblemError("not-found", "There is nothing here.");
  });

  signInRoutes(app, ctx);

  app.get("/__admin", async (_request, reply) => reply.redirect("/__admin/", 308));

  app.get("/__admin/", async (request, reply) => {
    const session = auth.session(request);
    if (!session) return reply.header("cache-control", NO_STORE).redirect("/__admin/sign-in", 303);
    return reply.type("text/html; charset=utf-8").header("cache-control", NO_STORE).send(pages.console({ who: session.who, csrf: auth.signer.csrfToken(session), expiresAt: new Date(session.exp).toISOString() }));
  });

  app.get("/__admin/console.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").header("cache-control", "no-cache").send(assets.script));
  app.get("/__admin/console.css", async (_request, reply) => reply.type("text/css; charset=utf-8").header("cache-control", "no-cache").send(assets.style));

  app.get("/__admin/state", async (request, reply) => {
    ctx.requireAdmin(request);
    return reply.header("cache-control", NO_STORE).send({ now: ctx.engine.now(), state: await consoleSnapshot(ctx) });
  });

  app.get("/__admin/events", async (request, reply) => {
    ctx.requireAdmin(request);
    const session = auth.session(request);
    reply.hijack();
    // The token or this machine have no end; a session's stream ends with the session.
    await live.add(reply.raw, session?.exp ?? Number.MAX_SAFE_INTEGER);
  });
  return live;
}
