// The forges' webhooks: GitHub's (`POST /hooks/github`, signed) and GitLab's (`POST /hooks/gitlab`, a secret token).
// The credential is checked before anything else (GitHub's signature over the raw bytes), JSON (and GitHub's
// form-encoded) payloads are read, and the answer comes once the delivery is on disk. Also the admin's list of
// recent deliveries, both forges'.
import type { DeliveryView } from "../../api/views.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Forge } from "../../core/forges/forge-intent.js";
import { DELIVERY_ID_PATTERN } from "../../forges/deliveries.js";
import type { ForgeHooks } from "../../forges/hooks.js";
import { NO_STORE, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

/** GitHub's own limit for a delivery. */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;
const GITHUB_EVENT = /^[a-z_]{1,50}$/;
/** GitLab names events in words: `Merge Request Hook`, `Push Hook`, `Note Hook`. */
const GITLAB_EVENT = /^[A-Za-z ]{1,50}$/;

/** What each forge's delivery says it is, and which one (its id, for redeliveries). */
interface DeliveryHeaders {
  event: string;
  id: string;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" ? value : undefined;
}

const READERS: Record<Forge, { credentialHeader: string; unauthorized: string; read(request: FastifyRequest): DeliveryHeaders }> = {
  github: {
    credentialHeader: "x-hub-signature-256",
    unauthorized: "The X-Hub-Signature-256 header is missing or does not match the body with any configured webhook secret.",
    read(request) {
      const event = header(request, "x-github-event");
      const id = header(request, "x-github-delivery");
      if (!event || !GITHUB_EVENT.test(event)) throw new ProblemError("bad-request", "The X-GitHub-Event header is missing or malformed.");
      if (!id || !DELIVERY_ID_PATTERN.test(id)) throw new ProblemError("bad-request", "The X-GitHub-Delivery header is missing or malformed.");
      return { event, id };
    },
  },
  gitlab: {
    credentialHeader: "x-gitlab-token",
    unauthorized: "The X-Gitlab-Token header is missing or is none of the configured webhook secret tokens.",
    read(request) {
      const event = header(request, "x-gitlab-event");
      // A retry carries the same Idempotency-Key (GitLab 17.4+); older instances send the event's UUID only.
      const id = header(request, "idempotency-key") || header(request, "x-gitlab-event-uuid");
      if (!event || !GITLAB_EVENT.test(event)) throw new ProblemError("bad-request", "The X-Gitlab-Event header is missing or malformed.");
      if (!id || !DELIVERY_ID_PATTERN.test(id)) throw new ProblemError("bad-request", "The Idempotency-Key (or X-Gitlab-Event-UUID) header is missing or malformed.");
      return { event, id };
    },
  },
};

function payloadOf(request: FastifyRequest, raw: Buffer, forge: Forge): unknown {
  const type = String(request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  let json: string;
  if (type === "application/json") json = raw.toString("utf8");
  else if (type === "application/x-www-form-urlencoded" && forge === "github") json = new URLSearchParams(raw.toString("utf8")).get("payload") ?? "";
  else throw new ProblemError("unsupported-media-type", forge === "github" ? "A webhook payload is application/json or application/x-www-form-urlencoded (a payload field)." : "A webhook payload is application/json.");
  try {
    return JSON.parse(json);
  } catch {
    throw new ProblemError("bad-request", "The payload is not valid JSON.");
  }
}

export function hookRoutes(app: FastifyInstance, ctx: HttpContext, forges: Partial<Record<Forge, ForgeHooks>>): void {
  // A scope of its own: here the body stays bytes (the signature is over them), elsewhere JSON is parsed as usual.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    for (const forge of ["github", "gitlab"] as const) {
      scope.post(`/hooks/${forge}`, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
        reply.header("cache-control", NO_STORE);
        const hooks = forges[forge];
        if (!hooks) throw new ProblemError("not-found", `${forge === "github" ? "GitHub" : "GitLab"} webhooks are not configured here (${forge}: in the config).`);
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const reader = READERS[forge];
        // The credential first: nothing about an unauthenticated request is looked at or answered in detail.
        if (!(await hooks.verified(raw, header(request, reader.credentialHeader)))) throw new ProblemError("unauthorized", reader.unauthorized);
        const { event, id } = reader.read(request);
        const answer = await hooks.accept(id, event, raw, payloadOf(request, raw, forge));
        return reply.code(answer.status).send(answer.body);
      });
    }
  });

  app.get("/api/deliveries", async (request, reply) => {
    ctx.requireAdmin(request);
    const deliveries: DeliveryView[] = (ctx.deliveries?.list() ?? []).slice(0, 500).map((delivery) => ({ ...delivery, receivedAt: new Date(delivery.receivedAt).toISOString() }));
    return reply.header("cache-control", NO_STORE).send({ deliveries });
  });
}
