// "Reset my demo" on a demo's own host: the /__demo/ page with its reset button, the rewind it starts, and the job it follows.
import type { FastifyReply, FastifyRequest } from "fastify";
import { jobView } from "../../core/state/jobs.js";
import type { Demo } from "../../core/model.js";
import type { HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";
import { answerJob, answerRewind, mayRewind, sourceFromBody } from "./rewind.js";

/** Whether this requester sees a reset button for this demo. */
export function canReset(ctx: HttpContext, request: FastifyRequest, demo: Demo): boolean {
  return demo.status === "ready" && ctx.engine.specFor(demo)?.state !== undefined && mayRewind(ctx, request, demo);
}

/** Answers the reset paths of a demo host; undefined when the path is not one of them. */
export async function answerDemoReset(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, demo: Demo, path: string): Promise<FastifyReply | undefined> {
  if (path === "/__demo/rewind") {
    if (request.method !== "POST") throw new ProblemError("method-not-allowed", "Rewind with POST.");
    // A plain form (no script) gets the page back, following its job; a script gets the job as JSON.
    const asked = new URL(request.url, "http://x").searchParams.get("source");
    const source = sourceFromBody(asked === null ? undefined : { source: asked });
    if (!ctx.wantsHtml(request)) return answerRewind(ctx, request, reply, demo.id, source, "/__demo/jobs/");
    ctx.assertSameOrigin(request);
    if (!mayRewind(ctx, request, demo)) throw new ProblemError("forbidden", "Only the visitor who launched this demo, or the admin, can reset it.");
    const { job } = await ctx.engine.rewind(demo.id, source);
    return reply.code(303).header("location", `/__demo/?job=${encodeURIComponent(job.id)}`).send();
  }
  const jobPath = /^\/__demo\/jobs\/([^/]+)$/.exec(path);
  if (jobPath) return answerJob(ctx, request, reply, jobPath[1]!, demo.id);
  if (path === "/__demo/" && demo.status === "ready") {
    const jobId = new URL(request.url, "http://x").searchParams.get("job");
    const job = jobId ? ctx.engine.job(jobId) : undefined;
    const followed = job && job.demoId === demo.id && mayRewind(ctx, request, demo) ? jobView(job, ctx.engine.now()) : undefined;
    return reply.code(200).type("text/html; charset=utf-8").send(ctx.pages.demoHome(demo, { canReset: canReset(ctx, request, demo), ...(followed ? { job: followed } : {}) }));
  }
  return undefined;
}
