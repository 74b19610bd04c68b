// The access API: share links of a gated demo (make, list, revoke) and a demo's own password, for admins.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { SHARE_TTL, sharePath, shareTtlOf, type Share } from "../../core/access/access-desk.js";
import { describeDuration } from "../../core/duration.js";
import type { Demo } from "../../core/model.js";
import { NO_STORE, publicOrigin, type HttpContext } from "../context.js";
import { ProblemError } from "../problem.js";
import type { AccessParts } from "./gate.js";
import { hashPassword, MIN_PASSWORD_LENGTH } from "./passwords.js";

export function shareView(share: Share, now: number) {
  return { id: share.id, note: share.note, by: share.by, createdAt: new Date(share.createdAt).toISOString(), expiresAt: new Date(share.expiresAt).toISOString(), secondsLeft: Math.max(0, Math.round((share.expiresAt - now) / 1000)), ...(share.usesLeft !== undefined ? { usesLeft: share.usesLeft } : {}) };
}

/** Who made a link, for its list: the console's person, or the token. */
function madeBy(ctx: HttpContext, request: FastifyRequest): string {
  return ctx.auth.session(request)?.who ?? "admin token";
}

function objectBody(request: FastifyRequest, allowed: string[], example: string): Record<string, unknown> {
  const body = request.body ?? {};
  if (typeof body !== "object" || Array.isArray(body) || body === null) throw new ProblemError("bad-request", `The body must be a JSON object such as ${example}.`);
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw new ProblemError("bad-request", `Unknown field ${JSON.stringify(unknown.slice(0, 40))}; allowed: ${allowed.join(", ")}.`);
  return body as Record<string, unknown>;
}

export function accessApiRoutes(app: FastifyInstance, ctx: HttpContext, parts: AccessParts): void {
  const { desk } = parts;

  const liveDemo = (raw: string): Demo => {
    const id = ctx.parseId(raw);
    const demo = ctx.engine.get(id);
    if (!demo) throw new ProblemError("not-found", `There is no live demo ${id}.`);
    return demo;
  };
  const gatedDemo = (raw: string): Demo => {
    const demo = liveDemo(raw);
    if (desk.policyOf(demo).mode === "public") throw new ProblemError("conflict", `Demo ${demo.id} is public: anyone with its address may open it, so a share link would add nothing. Set access: on its app, source or shared demo to gate it.`);
    return demo;
  };

  app.post<{ Params: { id: string } }>("/api/demos/:id/shares", async (request, reply) => {
    ctx.requireAdmin(request);
    const demo = gatedDemo(request.params.id);
    const body = objectBody(request, ["ttl", "note", "uses"], '{"ttl":"3d","note":"for the customer"}');
    const ttl = shareTtlOf(body.ttl);
    if (ttl === undefined) throw new ProblemError("bad-request", `"ttl" must be ${SHARE_TTL.help} (how long the link opens the demo), not ${JSON.stringify(body.ttl ?? null).slice(0, 40)}.`);
    if (body.note !== undefined && (typeof body.note !== "string" || body.note.length > 200)) throw new ProblemError("bad-request", '"note" must be text of at most 200 characters (who the link is for).');
    if (body.uses !== undefined && !(Number.isInteger(body.uses) && (body.uses as number) >= 1 && (body.uses as number) <= 1000)) throw new ProblemError("bad-request", '"uses" must be a whole number from 1 to 1000 (how many browsers may open the link; leave it out for any number), such as 1 for a one-time link.');
    const { share, token } = await desk.createShare(demo, ttl, (body.note as string | undefined) ?? "", madeBy(ctx, request), body.uses as number | undefined);
    const url = `${publicOrigin(ctx.config, demo.host)}${sharePath(token)}`;
    return reply.code(201).header("cache-control", NO_STORE).send({ ...shareView(share, ctx.engine.now()), url, note: share.note, lasts: describeDuration(ttl) });
  });

  app.get<{ Params: { id: string } }>("/api/demos/:id/shares", async (request, reply) => {
    ctx.requireAdmin(request);
    const demo = liveDemo(request.params.id);
    const now = ctx.engine.now();
    return reply.header("cache-control", NO_STORE).send({ access: desk.policyOf(demo).mode, shares: desk.shares(demo.id).map((share) => shareView(share, now)) });
  });

  // Answers once nginx no longer lets the link's sessions in (its cached answers are keyed by the gate that moved).
  app.delete<{ Params: { id: string; share: string } }>("/api/demos/:id/shares/:share", async (request, reply) => {
    ctx.requireAdmin(request);
    const demo = liveDemo(request.params.id);
    if (!/^[a-f0-9]{12}$/.test(request.params.share) || !(await desk.revokeShare(demo.id, request.params.share, `revoked by ${madeBy(ctx, request)}`))) {
      throw new ProblemError("not-found", `Demo ${demo.id} has no share link ${JSON.stringify(request.params.share.slice(0, 40))}; GET /api/demos/${demo.id}/shares lists them.`);
    }
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string } }>("/api/demos/:id/access/password", async (request, reply) => {
    ctx.requireAdmin(request);
    const demo = liveDemo(request.params.id);
    if (desk.policyOf(demo).mode !== "password") throw new ProblemError("conflict", `Demo ${demo.id} is opened by ${desk.policyOf(demo).mode}, not by a password (access: password on its app, source or shared demo).`);
    const body = objectBody(request, ["password"], '{"password":"a long passphrase"}');
    if (typeof body.password !== "string" || body.password.length < MIN_PASSWORD_LENGTH || body.password.length > 1024) throw new ProblemError("bad-request", `"password" must be text of ${MIN_PASSWORD_LENGTH} to 1024 characters.`);
    await desk.setPassword(demo, await hashPassword(body.password));
    ctx.logger.info(`access: ${madeBy(ctx, request)} set a new password for ${demo.id}`, { demo: demo.id });
    return reply.code(204).send();
  });
}
