// GET /metrics in Prometheus' text format: straight to the controller (Prometheus on the host), or with the admin token.
import type { FastifyInstance } from "fastify";
import type { ControllerMetrics } from "../../metrics/metrics.js";
import { isDirectLoopback } from "../client.js";
import type { HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

export function metricsRoutes(app: FastifyInstance, ctx: HttpContext, metrics: ControllerMetrics | undefined): void {
  app.get("/metrics", async (request, reply) => {
    // Through nginx a request carries X-Real-IP: the internet sees no figures unless it holds the admin token.
    const viaNginx = request.headers["x-real-ip"] !== undefined || request.headers["x-forwarded-for"] !== undefined;
    if (!metrics || (viaNginx && !(ctx.config.adminToken && ctx.isAdmin(request)))) throw new ProblemError("not-found", "There is nothing here.");
    // Straight to the controller from elsewhere than this machine: the token too, when one is configured.
    if (!viaNginx && !isDirectLoopback(request) && ctx.config.adminToken && !ctx.isAdmin(request)) throw new ProblemError("unauthorized", "Metrics need the admin token: send `Authorization: Bearer <token>`.");
    return reply.type(metrics.contentType).header("cache-control", "no-store").send(await metrics.render());
  });
}
