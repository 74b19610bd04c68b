// GitHub's webhook (`POST /hooks/github`): the raw bytes are checked against the signature before anything else,
// JSON and form-encoded payloads are read, and the answer comes once the delivery is on disk. Also the admin's
// list of recent deliveries.
import type { DeliveryView } from "../../api/views.js";
import type { FastifyInstance } from "fastify";
import { DELIVERY_ID_PATTERN } from "../../github/deliveries.js";
import type { GithubHooks } from "../../github/hooks.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

/** GitHub's own limit for a delivery. */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;
const EVENT_PATTERN = /^[a-z_]{1,50}$/;

export function hookRoutes(app: FastifyInstance, ctx: HttpContext, hooks: GithubHooks | undefined): void {
  // A scope of its own: here the body stays bytes (the signature is over them), elsewhere JSON is parsed as usual.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.post("/hooks/github", { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
      reply.header("cache-control", NO_STORE);
      if (!hooks) throw new ProblemError("not-found", "GitHub webhooks are not configured here (github: in the config).");
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      // The signature first: nothing about an unsigned request is looked at or answered in detail.
      const signature = request.headers["x-hub-signature-256"];
      if (!(await hooks.verified(raw, typeof signature === "string" ? signature : undefined))) throw new ProblemError("unauthorized", "The X-Hub-Signature-256 header is missing or does not match the body with any configured webhook secret.");
      const event = request.headers["x-github-event"];
      const id = request.headers["x-github-delivery"];
      if (typeof event !== "string" || !EVENT_PATTERN.test(event)) throw new ProblemError("bad-request", "The X-GitHub-Event header is missing or malformed.");
      if (typeof id !== "string" || !DELIVERY_ID_PATTERN.test(id)) throw new ProblemError("bad-request", "The X-GitHub-Delivery header is missing or malformed.");
      const type = String(request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      let json: string;
      if (type === "application/json") json = raw.toString("utf8");
      else if (type === "application/x-www-form-urlencoded") json = new URLSearchParams(raw.toString("utf8")).get("payload") ?? "";
      else throw new ProblemError("unsupported-media-type", "A webhook payload is application/json or application/x-www-form-urlencoded (a payload field).");
      let payload: unknown;
      try {
        payload = JSON.parse(json);
      } catch {
        throw new ProblemError("bad-request", "The payload is not valid JSON.");
      }
      const answer = await hooks.accept(id, event, raw, payload);
      return reply.code(answer.status).send(answer.body);
    });
  });

  app.get("/api/deliveries", async (request, reply) => {
    ctx.requireAdmin(request);
    const deliveries: DeliveryView[] = (hooks?.deliveries.list() ?? []).slice(0, 500).map((delivery) => ({ ...delivery, receivedAt: new Date(delivery.receivedAt).toISOString() }));
    return reply.header("cache-control", NO_STORE).send({ deliveries });
  });
}
