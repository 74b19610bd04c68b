// Demo hosts: every request nginx did not route (starting, queued, ended, unknown) gets a page saying why.
import type { FastifyInstance } from "fastify";
import { idFromHost } from "../../core/routing/naming.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError, sendProblem } from "../problem.js";
import { answerPreviewHost, isPreviewHost } from "./preview-hosts.js";
import { answerDemoReset, canReset } from "./demo-reset.js";
import { sendFavicon } from "./visitors.js";

export function demoHostPages(app: FastifyInstance, ctx: HttpContext, logo: { body: Buffer; type: string } | undefined): void {
  const { config, engine, pages, scripts } = ctx;
  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0];
    // ACME's checks are answered by their own route, on any of our names.
    if (path?.startsWith("/.well-known/acme-challenge/")) return;
    const id = idFromHost(request.headers.host, config.domain) ?? ctx.ownHostDemo(request.headers.host);
    if (!id) return;
    // The ways into a gated demo are routes of their own (src/http/access/).
    if (path?.startsWith("/__demo/access/")) return;
    if (path === "/favicon.ico") return sendFavicon(reply, config, logo);
    if (path === "/__demo/status.js" || path === "/__demo/banner.js") {
      return reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(path === "/__demo/status.js" ? scripts.status : scripts.banner);
    }
    if (isPreviewHost(ctx, id)) return answerPreviewHost(ctx, request, reply, id, path ?? "/");
    reply.header("cache-control", NO_STORE);
    const demo = engine.get(id);
    const ended = demo ? undefined : engine.getEnded(id);
    // A page or a poll about a queued demo shows that its visitor is still waiting.
    if (demo) engine.touch(id);
    if (demo) {
      const answered = await answerDemoReset(ctx, request, reply, demo, path ?? "/");
      if (answered) return answered;
    }
    if (path === "/__demo/status.json") {
      // The banner offers "Reset my demo" only to the visitor who may press it.
      if (demo) return reply.send({ ...ctx.viewFor(demo), ...(canReset(ctx, request, demo) ? { canReset: true } : {}) });
      if (ended) return reply.send(ctx.endedView(ended));
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
}
