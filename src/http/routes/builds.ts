// Preview builds over HTTP (admin): request one, list them, follow a build's log, cancel it.
import type { BuildView } from "../../api/views.js";
import { open, stat } from "node:fs/promises";
import { knownBranches } from "../../builds/preview-requests.js";
import { checkBranchName } from "../../builds/git.js";
import type { FastifyInstance } from "fastify";
import type { Build } from "../../core/builds/build-queue.js";
import type { BuildRunner } from "../../builds/build-runner.js";
import { hostFor } from "../../core/routing/naming.js";
import { servedLabel } from "../../core/previews/preview-names.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

const BUILD_ID_PATTERN = /^[a-z0-9-]{4,64}$/;
/** A followed log is given up after this long even if the build never ends (the client can ask again). */
const FOLLOW_LIMIT_MS = 30 * 60_000;

/** A build as JSON; with `urlOf`, the address of the host it serves (for people and the CLI). */
export function buildView(build: Build, urlOf?: (label: string) => string): BuildView {
  const label = servedLabel(build);
  return {
    id: build.id,
    source: build.source,
    ...(build.branch ? { branch: build.branch } : {}),
    ...(build.commit ? { commit: build.commit } : {}),
    state: build.state,
    ...(build.reason ? { reason: build.reason } : {}),
    ...(build.note ? { note: build.note } : {}),
    ...(build.host ? { host: build.host, version: build.version ?? 0 } : {}),
    ...(build.untrusted ? { untrusted: true } : {}),
    ...(build.image ? { image: build.image } : {}),
    createdAt: new Date(build.createdAt).toISOString(),
    ...(build.startedAt ? { startedAt: new Date(build.startedAt).toISOString() } : {}),
    ...(build.finishedAt ? { finishedAt: new Date(build.finishedAt).toISOString() } : {}),
    attempts: build.attempts,
    log: `/api/builds/${build.id}/log`,
    ...(label && urlOf ? { url: urlOf(label) } : {}),
  };
}

export function buildRoutes(app: FastifyInstance, ctx: HttpContext, runner: BuildRunner | undefined): void {
  const urlOf = (label: string) => `${publicOrigin(ctx.config, hostFor(label, ctx.config.domain))}/`;
  const requireRunner = (): BuildRunner => {
    if (runner) return runner;
    throw new ProblemError("not-found", "No preview sources are configured here (previews: in the config).");
  };
  const findBuild = (raw: string): Build => {
    if (!BUILD_ID_PATTERN.test(raw)) throw new ProblemError("bad-request", `${JSON.stringify(raw.slice(0, 70))} is not a build id.`);
    const build = requireRunner().queue.get(raw);
    if (!build) throw new ProblemError("not-found", `There is no build ${raw}.`);
    return build;
  };

  app.post("/api/builds", async (request, reply) => {
    ctx.requireAdmin(request);
    const body = request.body as Record<string, unknown> | null | undefined;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ProblemError("bad-request", 'The body must be a JSON object such as {"source":"web","branch":"main"}.');
    const unknownKeys = Object.keys(body).filter((key) => !["source", "branch", "commit"].includes(key));
    if (unknownKeys.length > 0) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(unknownKeys[0]!.slice(0, 40))}; allowed: source, branch, commit.`);
    if ((body.branch === undefined) === (body.commit === undefined)) throw new ProblemError("bad-request", "Name either a branch or a commit.");
    const runner = requireRunner();
    // An unknown branch is refused now with the closest names, as /preview does, not queued to fail later.
    if (body.branch !== undefined && typeof body.source === "string" && Object.hasOwn(runner.sources, body.source)) await knownBranches(runner, body.source, await checkBranchName(body.branch));
    const { build, created } = await runner.request(body.source, { branch: body.branch, commit: body.commit });
    return reply.code(created ? 202 : 200).header("location", `/api/builds/${build.id}`).header("cache-control", NO_STORE).send(buildView(build, urlOf));
  });

  app.get("/api/builds", async (request) => {
    ctx.requireAdmin(request);
    return { builds: (runner?.queue.all() ?? []).map((build) => buildView(build, urlOf)) };
  });

  app.get<{ Params: { id: string } }>("/api/builds/:id", async (request, reply) => {
    ctx.requireAdmin(request);
    return reply.header("cache-control", NO_STORE).send(buildView(findBuild(request.params.id), urlOf));
  });

  app.delete<{ Params: { id: string } }>("/api/builds/:id", async (request, reply) => {
    ctx.requireAdmin(request);
    const build = findBuild(request.params.id);
    if (!(await requireRunner().cancel(build.id))) throw new ProblemError("conflict", `Build ${build.id} is ${build.state} already; only a queued or running build can be cancelled.`);
    return reply.code(204).send();
  });

  // The whole log as plain text; with ?follow=1 it stays open and sends what is added until the build ends.
  app.get<{ Params: { id: string }; Querystring: { follow?: string } }>("/api/builds/:id/log", async (request, reply) => {
    ctx.requireAdmin(request);
    const build = findBuild(request.params.id);
    const file = requireRunner().logFile(build.id);
    const follow = request.query.follow === "1" || request.query.follow === "true";
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": NO_STORE, "x-content-type-options": "nosniff" });
    let offset = 0;
    const sendNew = async () => {
      const size = await stat(file).then((info) => info.size, () => 0);
      if (size <= offset) return;
      const handle = await open(file, "r");
      try {
        const chunk = Buffer.alloc(size - offset);
        await handle.read(chunk, 0, chunk.length, offset);
        offset = size;
        response.write(chunk);
      } finally {
        await handle.close();
      }
    };
    await sendNew();
    const { scheduler } = ctx.engine.options;
    const deadline = scheduler.now() + FOLLOW_LIMIT_MS;
    while (follow && !response.destroyed && scheduler.now() < deadline && requireRunner().queue.isActive(build)) {
      // The log is a file the build appends to: it is read as `tail -f` does.
      await scheduler.sleep(200);
      await sendNew();
    }
    await sendNew();
    response.end();
  });
}
