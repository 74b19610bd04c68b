// Turns errors into RFC 9457 problem+json answers; bugs become a plain 500 without internals.
import type { FastifyReply } from "fastify";
import { ProblemError } from "../core/errors.js";

export const PROBLEM_TYPE_BASE = "https://demo-launcher.dev/problems/";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [key: string]: unknown;
}

export function problemBody(error: ProblemError, instance?: string): ProblemBody {
  return { type: `${PROBLEM_TYPE_BASE}${error.kind}`, title: error.title, status: error.status, detail: error.message, ...(instance ? { instance } : {}), ...error.extra };
}

export function sendProblem(reply: FastifyReply, error: ProblemError, instance?: string): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
  return reply.code(error.status).type("application/problem+json").send(problemBody(error, instance));
}

/** Fastify's own client errors (bad JSON, wrong media type, body too large) as problems. */
export function fromFrameworkError(error: { statusCode?: number; code?: string; message: string }): ProblemError | undefined {
  const status = error.statusCode ?? 500;
  if (status >= 500) return undefined;
  const kind = status === 415 ? "unsupported-media-type" : status === 413 ? "payload-too-large" : status === 405 ? "method-not-allowed" : status === 404 ? "not-found" : "bad-request";
  const detail = error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || /JSON/.test(error.message) ? "The body is not valid JSON." : error.message.replace(/^FST_\w+: /, "");
  return new ProblemError(kind, detail);
}
