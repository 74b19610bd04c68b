// ACME on the controller's HTTP side: HTTP-01 answers for the certificates of demos' own names (nginx passes
// /.well-known/acme-challenge/ on plain HTTP to here), and the `ask` check a proxy such as Caddy may put first.
import type { FastifyInstance } from "fastify";
import { isDirectLoopback } from "../client.js";
import type { HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";

export interface AcmeAnswers {
  /** The key authorization of a pending HTTP-01 challenge of ours, by its token. */
  answer(token: string): string | undefined;
  /** Whether a certificate may be issued for the name: it is a live demo's own name. */
  mayIssue(host: string): boolean;
}

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export function acmeChallengeRoutes(app: FastifyInstance, _ctx: HttpContext, answers: AcmeAnswers | undefined): void {
  app.get<{ Params: { token: string } }>("/.well-known/acme-challenge/:token", async (request, reply) => {
    const answer = TOKEN.test(request.params.token) ? answers?.answer(request.params.token) : undefined;
    if (answer === undefined) throw new ProblemError("not-found", "No challenge of ours has this token.");
    return reply.type("text/plain").header("cache-control", "no-store").send(answer);
  });
  // Like Caddy's on-demand TLS `ask`: 200 when a certificate may be issued for the name, 404 when not. Asked from
  // this machine only: through nginx it would tell anyone which names are served (they can find out, but not here).
  app.get<{ Querystring: { domain?: string } }>("/__demo/tls/ask", async (request, reply) => {
    if (!isDirectLoopback(request)) throw new ProblemError("not-found", "There is nothing here.");
    const domain = String(request.query.domain ?? "").toLowerCase();
    if (!domain) throw new ProblemError("bad-request", "Say which name: ?domain=shop.example.org.");
    if (!answers?.mayIssue(domain)) throw new ProblemError("not-found", `${domain.slice(0, 100)} is not a name of a live demo: no certificate is issued for it.`);
    return reply.type("text/plain").header("cache-control", "no-store").send("yes\n");
  });
}
