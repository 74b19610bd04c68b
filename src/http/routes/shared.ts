// Shared demos for the operator: each with its replicas, last and next reset (GET /api/shared), and a reset on request.
import type { ResetView, SharedView } from "../../api/views.js";
import type { FastifyInstance } from "fastify";
import type { ResetState } from "../../core/shared/shared.js";
import { NO_STORE, type HttpContext } from "../context.js";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function resetView(reset: ResetState | undefined): ResetView | undefined {
  if (!reset) return undefined;
  return { status: reset.status, trigger: reset.trigger, startedAt: iso(reset.startedAt)!, ...(reset.finishedAt ? { finishedAt: iso(reset.finishedAt), durationMs: reset.finishedAt - reset.startedAt } : {}), ...(reset.reason ? { reason: reset.reason } : {}) };
}

/** A shared demo for the operator: its replicas, schedule and resets (the API and the console show the same). */
export function sharedView(ctx: HttpContext, name: string): SharedView {
  const { config, engine } = ctx;
  const settings = config.shared[name]!;
  const demo = engine.get(name);
  return {
    name,
    app: settings.app,
    ...(demo ? { host: demo.host, url: ctx.urlOf(demo) } : {}),
    status: demo?.status ?? "starting",
    replicas: settings.replicas,
    instances: (demo?.instances ?? []).map((instance) => ({ id: instance.id, generation: instance.generation, health: instance.health, ...(instance.endpoint ? { endpoint: instance.endpoint } : {}) })),
    ...(settings.reset ? { schedule: settings.reset, timeZone: settings.timeZone, ...(ctx.schedules?.nextResetAt(name) !== undefined ? { nextResetAt: iso(ctx.schedules.nextResetAt(name))! } : {}) } : {}),
    ...(engine.shared.lastResetAt.has(name) ? { lastResetAt: iso(engine.shared.lastResetAt.get(name))! } : {}),
    ...(engine.shared.resets.has(name) ? { lastReset: resetView(engine.shared.resets.get(name))! } : {}),
  };
}

export function sharedRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { config, engine } = ctx;
  const view = (name: string) => sharedView(ctx, name);

  app.get("/api/shared", async (request, reply) => {
    ctx.requireAdmin(request);
    return reply.header("cache-control", NO_STORE).send({ shared: Object.keys(config.shared).map(view) });
  });

  app.post<{ Params: { name: string } }>("/api/shared/:name/reset", async (request, reply) => {
    ctx.requireAdmin(request);
    engine.shared.requestReset(request.params.name, "requested");
    return reply.code(202).header("location", "/api/shared").header("cache-control", NO_STORE).send(view(request.params.name));
  });
}
