// Previews over HTTP: the entry URL people open (`/preview?source=…&branch=…|commit=…` on the apex, answered with
// the preview's own host at once), the admin's removal of a preview with its image, and a preview's own env.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEMO_ID_PATTERN, hostFor, idFromHost, normalizeHost } from "../../core/routing/naming.js";
import { openPreview } from "../../builds/preview-requests.js";
import { removePreview } from "../../builds/preview-removal.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { asProblem, ProblemError, sendProblem } from "../problem.js";
import { buildView } from "./builds.js";

/** The variables of PUT /api/previews/:host/env: `{ "env": { "NAME": "value" } }`, each named and sized as a shell would take it. */
export function envFromBody(body: unknown): Record<string, string> {
  const env = body && typeof body === "object" && !Array.isArray(body) ? (body as { env?: unknown }).env : undefined;
  const extra = body && typeof body === "object" ? Object.keys(body).filter((key) => key !== "env") : [];
  if (extra.length > 0) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}; allowed: env.`);
  if (!env || typeof env !== "object" || Array.isArray(env)) throw new ProblemError("bad-request", 'The body must be {"env": {"NAME": "value", ...}} ({"env": {}} takes the preview\'s own variables away).');
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.length > 64) throw new ProblemError("bad-request", `At most 64 variables, not ${entries.length}.`);
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) throw new ProblemError("bad-request", `${JSON.stringify(name.slice(0, 60))} is not a variable name (letters, digits and _, not starting with a digit).`);
    if (name.startsWith("DEMO_")) throw new ProblemError("bad-request", `${name}: DEMO_ variables are the preview's own (its URL, commit, ...) and cannot be set.`);
    if (typeof value !== "string" || value.length > 4096) throw new ProblemError("bad-request", `${name} must be text of at most 4096 characters, not ${JSON.stringify(value)?.slice(0, 60) ?? "nothing"}.`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export function previewRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config, engine } = ctx;
  const previewLabelOf = (raw: string): string => {
    const label = idFromHost(raw, config.domain) ?? (DEMO_ID_PATTERN.test(normalizeHost(raw)) ? normalizeHost(raw) : undefined);
    if (!label) throw new ProblemError("bad-request", `${JSON.stringify(raw.slice(0, 80))} is not a preview host of ${config.domain}.`);
    return label;
  };

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

  // A preview's own variables over its source's env (a pull request's feature flag), applied without a rebuild.
  app.put<{ Params: { host: string } }>("/api/previews/:host/env", async (request, reply) => {
    ctx.requireAdmin(request);
    const label = previewLabelOf(request.params.host);
    const env = envFromBody(request.body);
    const demo = await engine.previews.setEnv(label, env);
    return reply.code(202).send({ ...ctx.viewFor(demo, { withInstances: true }), env: Object.keys(demo.envOverrides ?? {}).sort() });
  });

  // Like a reset: the preview, its containers and its image go; its host builds it again on the next visit.
  app.delete<{ Params: { host: string } }>("/api/previews/:host", async (request, reply) => {
    ctx.requireAdmin(request);
    const label = previewLabelOf(request.params.host);
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
