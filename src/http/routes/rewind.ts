// Rewinds: an app's state sources, a rewind started as a job (by the admin or the demo's own visitor), and the job.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError } from "../../core/errors.js";
import { jobView, type Job } from "../../core/state/jobs.js";
import type { Demo } from "../../core/model.js";
import { sourcesView } from "../../core/state/state-sources.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

const SOURCE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const JOB_ID = /^[a-z0-9-]{1,64}$/;

/** The visitor who launched the demo (same address) or the admin; nobody else may rewind it or see its jobs. */
export function mayRewind(ctx: HttpContext, request: FastifyRequest, demo: Pick<Demo, "owner"> | undefined): boolean {
  if (ctx.isAdmin(request)) return true;
  return demo?.owner !== undefined && ctx.visitorKey(request) === demo.owner;
}

export function sourceFromBody(body: unknown): string | undefined {
  if (body === undefined || body === null || body === "") return undefined;
  if (typeof body !== "object" || Array.isArray(body)) throw new ProblemError("bad-request", 'The body must be empty or a JSON object such as {"source":"fixtures"}.');
  const unknownKeys = Object.keys(body).filter((key) => key !== "source");
  if (unknownKeys.length > 0) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(unknownKeys[0]!.slice(0, 40))}; allowed: source.`);
  const source = (body as { source?: unknown }).source;
  if (source === undefined) return undefined;
  if (typeof source !== "string" || !SOURCE_NAME.test(source)) throw new ProblemError("bad-request", `"source" must be a source name (lowercase letters, digits and hyphens), not ${JSON.stringify(source).slice(0, 80)}.`);
  return source;
}

/** Starts (or finds) the rewind and answers 202 with the job; `jobsPath` is where the caller follows it. */
export async function answerRewind(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, id: string, source: string | undefined, jobsPath: string): Promise<FastifyReply> {
  ctx.assertSameOrigin(request);
  const demo = ctx.engine.get(id);
  if (demo && !mayRewind(ctx, request, demo)) throw new ProblemError("forbidden", "Only the visitor who launched this demo, or the admin, can rewind it.");
  const { job } = await ctx.engine.rewind(id, source);
  return reply.code(202).header("location", `${jobsPath}${job.id}`).header("cache-control", NO_STORE).send(jobView(job, ctx.engine.now()));
}

/** A job, to its demo's visitor or the admin. */
export function answerJob(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, rawId: string, demoId?: string): FastifyReply {
  if (!JOB_ID.test(rawId)) throw new ProblemError("bad-request", `${JSON.stringify(rawId.slice(0, 70))} is not a job id.`);
  const job: Job | undefined = ctx.engine.job(rawId);
  // On a demo's host only that demo's jobs exist; elsewhere, a job of a demo that ended stays the admin's to see.
  if (!job || (demoId !== undefined && job.demoId !== demoId)) throw new DomainError({ code: "no-such-job", id: rawId });
  const demo = ctx.engine.get(job.demoId);
  if (!ctx.isAdmin(request) && !mayRewind(ctx, request, demo)) throw new DomainError({ code: "no-such-job", id: rawId });
  return reply.header("cache-control", NO_STORE).send(jobView(job, ctx.engine.now()));
}

export function rewindRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config } = ctx;

  app.get<{ Params: { app: string } }>("/api/apps/:app/sources", async (request) => {
    const spec = Object.hasOwn(config.apps, request.params.app) ? config.apps[request.params.app] : undefined;
    if (!spec) throw new ProblemError("not-found", `${JSON.stringify(request.params.app.slice(0, 60))} is not an app here; apps: ${Object.keys(config.apps).join(", ")}.`, { extra: { allowed: Object.keys(config.apps) } });
    return spec.state ? sourcesView(spec.state) : { default: null, sources: [] };
  });

  app.post<{ Params: { id: string } }>("/api/demos/:id/rewind", async (request, reply) => answerRewind(ctx, request, reply, ctx.parseId(request.params.id), sourceFromBody(request.body), "/api/jobs/"));

  app.post<{ Params: { id: string } }>("/api/demos/:id/snapshot", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    const source = sourceFromBody(request.body);
    if (!source) throw new ProblemError("bad-request", 'Name the snapshot source: {"source":"<name>"} (a source of kind snapshot of the demo\'s app).');
    const job = await ctx.engine.snapshot(id, source);
    return reply.code(202).header("location", `/api/jobs/${job.id}`).header("cache-control", NO_STORE).send(jobView(job, ctx.engine.now()));
  });

  app.get<{ Params: { id: string } }>("/api/jobs/:id", async (request, reply) => answerJob(ctx, request, reply, request.params.id));
}
