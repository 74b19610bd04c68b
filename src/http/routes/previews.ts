// Previews over HTTP: the entry URL people open (`/preview?source=…&branch=…|commit=…` on the apex, answered with
// the preview's own host at once) and the admin's removal of a preview with its image.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEMO_ID_PATTERN, hostFor, idFromHost, normalizeHost } from "../../core/routing/naming.js";
import { openPreview } from "../../builds/preview-requests.js";
import { removePreview } from "../../builds/preview-removal.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { asProblem, ProblemError, sendProblem } from "../problem.js";
import { buildView } from "./builds.js";

export function previewRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config, engine } = ctx;

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>("/preview", async (request, reply) => {
    reply.header("cache-control", NO_STORE);
    try {
      if (!ctx.builds) throw new ProblemError("not-found", "No preview sources are configured here (previews: in the config).");
      const query = request.query;
      const single = (key: string) => {
        const value = query[key];
        if (Array.isArray(value)) throw new ProblemError("bad-request", `Give ${key} once.`);
        return value;
      };
      const unknownKeys = Object.keys(query).filter((key) => !["source", "branch", "commit"].includes(key));
      if (unknownKeys.length > 0) throw new ProblemError("bad-request", `Unknown parameter ${JSON.stringify(unknownKeys[0]!.slice(0, 40))}; allowed: source, branch, commit.`);
      const opened = await openPreview(ctx.builds, { get: (label) => engine.get(label), wake: (label) => engine.previews.wake(label) }, single("source"), { branch: single("branch"), commit: single("commit") });
      const url = `${publicOrigin(config, hostFor(opened.label, config.domain))}/`;
      if (ctx.wantsHtml(request)) return reply.code(303).header("location", url).send();
      return reply.code(opened.build ? 202 : 200).header("location", url).send({ host: hostFor(opened.label, config.domain), url, ...(opened.build ? { build: buildView(opened.build) } : {}) });
    } catch (error) {
      return answerProblem(ctx, request, reply, error);
    }
  });

  // Like a reset: the preview, its containers and its image go; its host builds it again on the next visit.
  app.delete<{ Params: { host: string } }>("/api/previews/:host", async (request, reply) => {
    ctx.requireAdmin(request);
    const raw = request.params.host;
    const label = idFromHost(raw, config.domain) ?? (DEMO_ID_PATTERN.test(normalizeHost(raw)) ? normalizeHost(raw) : undefined);
    if (!label) throw new ProblemError("bad-request", `${JSON.stringify(raw.slice(0, 80))} is not a preview host of ${config.domain}.`);
    const demo = engine.get(label);
    if (demo && demo.kind !== "preview") throw new ProblemError("conflict", `${label} is a ${demo.kind} demo, not a preview; stop it with DELETE /api/demos/${label}.`);
    const removal = await removePreview(engine, ctx.builds, label);
    if (!removal.removed && removal.cancelledBuilds.length === 0) throw new ProblemError("not-found", `There is no preview at ${label}.`);
    return reply.code(200).send({ host: hostFor(label, config.domain), ...removal });
  });
}

/** A refusal as problem+json, or as a page for a person who clicked a link. */
function answerProblem(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const problem = asProblem(error);
  if (!problem) throw error;
  if (!ctx.wantsHtml(request)) return sendProblem(reply, problem, request.url.slice(0, 200));
  if (problem.retryAfterSeconds !== undefined) reply.header("retry-after", String(problem.retryAfterSeconds));
  return reply.code(problem.status).type("text/html; charset=utf-8").send(ctx.pages.problem(problem.title, problem.message));
}
