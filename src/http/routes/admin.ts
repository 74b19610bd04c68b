// Operator actions behind the admin token: every demo, stop, extend, replace, the spare containers, and the controller's status.
import type { FastifyInstance } from "fastify";
import { parseDuration } from "../../core/duration.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

/** Docker's reference syntax, loosely: a name with an optional registry, path, tag and digest. */
const IMAGE_PATTERN = /^[a-z0-9][a-z0-9._\-/:]{0,254}(@sha256:[a-f0-9]{64})?$/;

export function adminRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config, engine } = ctx;

  app.get("/api/demos", async (request) => {
    ctx.requireAdmin(request);
    return { demos: engine.list().map((demo) => ctx.viewFor(demo, { withInstances: true })) };
  });

  app.post<{ Params: { id: string } }>("/api/demos/:id/extend", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    const body = request.body as { by?: unknown } | null | undefined;
    const by = body && typeof body === "object" && typeof body.by === "string" ? parseDuration(body.by) : undefined;
    if (by === undefined) throw new ProblemError("bad-request", 'Send {"by":"<duration>"}, the duration as a number followed by s, m or h (for example 10m), from 1s to 24h.');
    reply.header("cache-control", NO_STORE);
    return ctx.viewFor(await engine.extend(id, by));
  });

  app.post<{ Params: { id: string } }>("/api/demos/:id/replace", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    const body = (request.body ?? {}) as unknown;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ProblemError("bad-request", 'The body must be empty or a JSON object such as {"image":"acme/crm:2.1"}.');
    const unknownKeys = Object.keys(body).filter((key) => key !== "image");
    if (unknownKeys.length > 0) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(unknownKeys[0]!.slice(0, 40))}; allowed: image.`);
    const image = (body as { image?: unknown }).image;
    if (image !== undefined && (typeof image !== "string" || !IMAGE_PATTERN.test(image))) {
      throw new ProblemError("bad-request", `"image" must be an image reference such as acme/crm:2.1, not ${JSON.stringify(image).slice(0, 80)}.`);
    }
    const demo = await engine.replace(id, image);
    return reply.code(202).header("location", `/api/demos/${demo.id}`).header("cache-control", NO_STORE).send(ctx.viewFor(demo, { withInstances: true }));
  });

  app.get<{ Params: { id: string }; Querystring: { lines?: string; service?: string } }>("/api/demos/:id/logs", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    const lines = request.query.lines === undefined ? 200 : Number(request.query.lines);
    if (!Number.isInteger(lines) || lines < 1 || lines > 1000) throw new ProblemError("bad-request", `"lines" must be a whole number from 1 to 1000, not ${JSON.stringify(String(request.query.lines).slice(0, 20))}.`);
    // Capped: an app that prints megabytes a line must not make the answer huge.
    const service = request.query.service;
    if (service !== undefined && !/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(service)) throw new ProblemError("bad-request", `"service" must be a service name of the demo's Compose file (lower-case letters, digits, . _ -), not ${JSON.stringify(String(service).slice(0, 40))}.`);
    const text = (await engine.logs(id, lines, service)).slice(-256 * 1024);
    return reply.type("text/plain; charset=utf-8").header("cache-control", NO_STORE).header("x-content-type-options", "nosniff").send(text ? `${text}\n` : "");
  });

  app.get<{ Params: { id: string } }>("/api/demos/:id/services", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    return reply.header("cache-control", NO_STORE).send({ services: await engine.services(id) });
  });

  app.delete<{ Params: { id: string } }>("/api/demos/:id", async (request, reply) => {
    ctx.requireAdmin(request);
    const id = ctx.parseId(request.params.id);
    if (!(await engine.stop(id))) throw new ProblemError("not-found", `There is no live demo ${id}.`);
    return reply.code(204).send();
  });

  // The warm pools' and the created-ahead containers (stop --all): none is made again until the controller restarts.
  app.delete("/api/spares", async (request, reply) => {
    ctx.requireAdmin(request);
    return reply.header("cache-control", NO_STORE).send({ removed: await engine.removeSpares() });
  });

  app.get("/api/status", async (request) => {
    ctx.requireAdmin(request);
    const demos = engine.list();
    return {
      demos: { total: demos.length, ready: demos.filter((demo) => demo.status === "ready").length, starting: demos.filter((demo) => demo.status === "starting").length },
      limits: config.limits,
      routesGeneration: engine.currentGeneration(),
      pool: engine.poolStatus(),
      prepared: engine.preparedStatus(),
      docker: engine.dockerStatus(),
      ...(await ctx.status()),
    };
  });
}
