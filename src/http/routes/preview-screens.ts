// The screenshots of changes' previews, as a pull or merge request's comment links them: immutable (a name is one
// commit's page in one viewport), gone with their preview.
import { createReadStream } from "node:fs";
import type { FastifyInstance } from "fastify";
import { idFromHost } from "../../core/routing/naming.js";
import type { HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

export function previewScreenRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { host: string; name: string } }>("/previews/:host/screens/:name", async (request, reply) => {
    const label = idFromHost(request.params.host, ctx.config.domain);
    const file = label && ctx.screens ? await ctx.screens.fileOf(label, request.params.name) : undefined;
    if (!file) throw new ProblemError("not-found", "There is no such screenshot: it belongs to a preview that has ended, or to an older push.");
    return reply.header("content-type", "image/png").header("cache-control", "public, max-age=31536000, immutable").header("x-content-type-options", "nosniff").send(createReadStream(file));
  });
}
