// A preview's own host until its app answers: the build's state and live log (server-sent events that resume
// from Last-Event-ID), the whole log, a rebuild button after a failure, and a "waking up" page for an asleep one.
import { FORGE_WORDS } from "../../core/forges/forge-intent.js";
import { open, stat } from "node:fs/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Build } from "../../core/builds/build-queue.js";
import { changeOfLabel, parsePreviewLabel } from "../../core/previews/preview-names.js";
import type { BuildRunner } from "../../builds/build-runner.js";
import { buildForHost, refServedAt } from "../../builds/preview-requests.js";
import { tailOf } from "../../builds/image-builder.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { hostFor } from "../../core/routing/naming.js";
import { ProblemError, sendProblem } from "../problem.js";
import { buildView } from "./builds.js";
import type { Scheduler } from "../../core/scheduler.js";

const TAIL_LINES = 200;
const FAILED_LINES = 25;
/** An event stream is closed after this long even if its build never ends; the browser reconnects by itself. */
const STREAM_LIMIT_MS = 30 * 60_000;
const HEARTBEAT_MS = 15_000;

/** Whether this demo host belongs to a configured preview source (so its pages are the preview's). */
export function isPreviewHost(ctx: HttpContext, label: string): boolean {
  const parsed = parsePreviewLabel(label);
  return Boolean(ctx.builds && parsed && Object.hasOwn(ctx.config.previews, parsed.source));
}

/** Answers a request to a preview host nginx did not route (no preview yet, building, starting, asleep). */
export async function answerPreviewHost(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, label: string, path: string): Promise<FastifyReply> {
  const runner = ctx.builds!;
  const demo = ctx.engine.get(label);
  if (demo) ctx.engine.previews.sawRequests([label]);
  if (path === "/__demo/preview.js") return reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(ctx.scripts.preview);
  reply.header("cache-control", NO_STORE);
  if (path === "/__demo/rebuild") return rebuild(ctx, runner, request, reply, label);
  if (path === "/__demo/reset") return startFresh(ctx, request, reply, label);
  // A served preview's own page: what it serves, and "Start fresh" (its database's rows go too).
  if (path === "/__demo/" && (demo?.status === "ready" || demo?.status === "asleep")) return reply.type("text/html; charset=utf-8").send(ctx.pages.previewHome(demo, ctx.access !== undefined && ctx.access.policyOf(demo).mode !== "public"));
  // Only a page view may queue a build: a stray poll or log request after a removal must not.
  const build = demo || path !== "/" ? runner.latestFor(label) : await buildForHost(runner, label, false);
  if (path === "/__demo/build-events") {
    if (!build) return sendProblem(reply, new ProblemError("not-found", "This preview has no build."));
    return streamBuild(runner, build, request, reply, ctx.engine.options.scheduler);
  }
  if (path === "/__demo/build.log") {
    if (!build) return sendProblem(reply, new ProblemError("not-found", "This preview has no build."));
    const text = await stat(runner.logFile(build.id)).then(() => tailOf(runner.logFile(build.id), Number.MAX_SAFE_INTEGER), () => "");
    return reply.type("text/plain; charset=utf-8").send(text);
  }
  if (path === "/__demo/status.json") {
    return reply.send({ id: label, status: demo?.status ?? (build && runner.queue.isActive(build) ? "building" : build ? build.state : "unknown"), ...(build ? { build: buildView(build) } : {}) });
  }
  reply.type("text/html; charset=utf-8");
  if (demo?.status === "asleep") {
    ctx.engine.previews.wake(label);
    return reply.code(503).header("retry-after", "2").send(ctx.pages.waking());
  }
  if (demo?.status === "ready") return reply.code(200).send(ctx.pages.ready());
  if (!build) return reply.code(404).send(ctx.pages.unknown());
  // A pull request's preview that was removed (closed) says so; it is not built again from here.
  const ended = ctx.engine.getEnded(label);
  if (!demo && build.host && !runner.queue.isActive(build)) return ended ? reply.code(410).send(ctx.pages.ended(ended, false)) : reply.code(404).send(ctx.pages.unknown());
  // The build is done and its preview starting: the usual starting page follows it.
  if (demo?.status === "starting" && !runner.queue.isActive(build) && build.state === "ready") return reply.code(503).header("retry-after", "1").send(ctx.pages.starting(demo));
  const log = runner.logFile(build.id);
  const size = await stat(log).then((info) => info.size, () => 0);
  const failed = !runner.queue.isActive(build) && build.state !== "ready";
  return reply
    .code(failed ? 502 : 503)
    .header("retry-after", "5")
    .send(
      ctx.pages.previewBuild({
        source: build.source,
        ref: build.branch ?? build.commit ?? "",
        ...(build.link ? { link: build.link, linkText: changeLinkText(build.host) } : {}),
        state: build.state,
        ...(build.note ? { note: build.note } : {}),
        ...(build.reason ? { reason: build.reason } : {}),
        logTail: await tailOf(log, TAIL_LINES),
        offset: size,
        ...(failed ? { failedLines: await tailOf(log, FAILED_LINES) } : {}),
      }),
    );
}

/** The rebuild button: the same branch or commit built again (a build under way is shared, not doubled). */
async function rebuild(ctx: HttpContext, runner: BuildRunner, request: FastifyRequest, reply: FastifyReply, label: string): Promise<FastifyReply> {
  if (request.method !== "POST") throw new ProblemError("method-not-allowed", "Rebuilding takes a POST (the button on the preview's page).");
  ctx.assertSameOrigin(request);
  const latest = runner.latestFor(label) ?? (await buildForHost(runner, label, false));
  if (!latest) throw new ProblemError("not-found", "This preview has no build to do again.");
  await runner.request(latest.source, refServedAt(label, latest));
  return reply.code(303).header("location", "/").send();
}

/**
 * The build's log as it grows, then its state: each `log` event carries whole lines and the byte offset after
 * them as its id, so a reconnect (Last-Event-ID) or a reloaded page (`?from=`) resumes without a gap or a repeat.
 */
async function streamBuild(runner: BuildRunner, build: Build, request: FastifyRequest, reply: FastifyReply, scheduler: Scheduler): Promise<FastifyReply> {
  const resumeAt = Number(request.headers["last-event-id"] ?? (request.query as { from?: string }).from ?? 0);
  let offset = Number.isSafeInteger(resumeAt) && resumeAt >= 0 ? resumeAt : 0;
  const file = runner.logFile(build.id);
  reply.hijack();
  const response = reply.raw;
  // nginx must pass each event on at once: X-Accel-Buffering turns its proxy buffering off for this answer.
  response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": NO_STORE, "x-accel-buffering": "no", "x-content-type-options": "nosniff" });
  response.write("retry: 2000\n\n");
  let closed = false;
  request.raw.on("close", () => (closed = true));
  const sendLines = async (final: boolean) => {
    const size = await stat(file).then((info) => info.size, () => 0);
    if (size < offset) offset = 0;
    if (size === offset) return;
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(Math.min(size - offset, 1024 * 1024));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      const end = final ? bytesRead : buffer.subarray(0, bytesRead).lastIndexOf(10) + 1;
      if (end <= 0) return;
      const text = buffer.subarray(0, end).toString("utf8").replace(/\r\n?/g, "\n").replace(/\n$/, "");
      offset += end;
      response.write(`id: ${offset}\nevent: log\n${text.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`);
    } finally {
      await handle.close();
    }
  };
  let lastState = "";
  let lastBeat = scheduler.now();
  const deadline = scheduler.now() + STREAM_LIMIT_MS;
  while (!closed && scheduler.now() < deadline) {
    const active = runner.queue.isActive(build);
    await sendLines(!active);
    const state = JSON.stringify(buildView(build));
    if (state !== lastState) {
      response.write(`event: state\ndata: ${state}\n\n`);
      lastState = state;
    }
    if (!active) break;
    if (scheduler.now() - lastBeat > HEARTBEAT_MS) {
      response.write(": still building\n\n");
      lastBeat = scheduler.now();
    }
    // The log is a file the build appends to: it is read as `tail -f` does.
    await scheduler.sleep(250);
  }
  response.end();
  return reply;
}

/**
 * "Start fresh" on a preview's page: whoever may open the preview may start it over (a reviewer who broke its
 * data); a page of another origin may not (a request without Origin is a program's, not a browser's).
 */
async function startFresh(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, label: string): Promise<FastifyReply> {
  if (request.method !== "POST") throw new ProblemError("method-not-allowed", "Start a preview fresh with POST.");
  // Whatever the request accepts: a page elsewhere (another demo's included) may send a plain POST here too.
  const origin = request.headers.origin;
  const own = publicOrigin(ctx.config, hostFor(label, ctx.config.domain));
  if (origin !== undefined && origin !== own) throw new ProblemError("forbidden", `A preview is started fresh from its own page (${own}), not from ${String(origin).slice(0, 100)}.`);
  const demo = ctx.engine.previews.startFresh(label);
  if (ctx.wantsHtml(request)) return reply.code(303).header("location", "/").send();
  return reply.code(202).send(ctx.viewFor(demo));
}

/** "Pull request #12" / "Merge request !12": what the build page's link to the change says. */
function changeLinkText(host: string | undefined): string {
  const change = host ? changeOfLabel(host) : undefined;
  if (!change) return "The change";
  const words = FORGE_WORDS[change.forge];
  return `${words.change[0]!.toUpperCase()}${words.change.slice(1)} ${words.mark}${change.number}`;
}
