// Problems a client caused, as RFC 9457 problem+json: the only place domain errors become statuses and words.
import type { FastifyReply } from "fastify";
import { formatDuration } from "../core/duration.js";
import { DomainError, type DomainErrorData } from "../core/errors.js";

export const PROBLEM_TYPE_BASE = "https://demo-launcher.dev/problems/";

export type ProblemKind =
  | "bad-request"
  | "unknown-app"
  | "not-found"
  | "conflict"
  | "full"
  | "rate-limited"
  | "unauthorized"
  | "unsupported-media-type"
  | "payload-too-large"
  | "method-not-allowed"
  | "forbidden"
  | "misdirected"
  | "unavailable";

const STATUS_BY_KIND: Record<ProblemKind, number> = {
  "bad-request": 400,
  "unknown-app": 400,
  "not-found": 404,
  conflict: 409,
  full: 429,
  "rate-limited": 429,
  unauthorized: 401,
  forbidden: 403,
  "unsupported-media-type": 415,
  "payload-too-large": 413,
  "method-not-allowed": 405,
  misdirected: 421,
  unavailable: 503,
};

const TITLE_BY_KIND: Record<ProblemKind, string> = {
  "bad-request": "Bad request",
  "unknown-app": "Unknown app",
  "not-found": "Not found",
  conflict: "Not possible now",
  full: "No room for another demo right now",
  "rate-limited": "Too many launches",
  unauthorized: "Admin token required",
  forbidden: "Not allowed from this origin",
  "unsupported-media-type": "Unsupported media type",
  "payload-too-large": "Request body too large",
  "method-not-allowed": "Method not allowed",
  misdirected: "Wrong host",
  unavailable: "Not available right now",
};

/** Every problem type with its status and title: the reference page (docs/reference/problems.md) has one section each. */
export function problemTypes(): Array<{ kind: ProblemKind; status: number; title: string }> {
  return (Object.keys(STATUS_BY_KIND) as ProblemKind[]).map((kind) => ({ kind, status: STATUS_BY_KIND[kind], title: TITLE_BY_KIND[kind] }));
}

/** A problem to answer with; thrown by route handlers, turned into problem+json by the error handler. */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(readonly kind: ProblemKind, detail: string, readonly options: { extra?: Record<string, unknown>; retryAfterSeconds?: number } = {}) {
    super(detail);
    this.name = "ProblemError";
    this.status = STATUS_BY_KIND[kind];
    this.title = TITLE_BY_KIND[kind];
  }

  get retryAfterSeconds(): number | undefined {
    return this.options.retryAfterSeconds;
  }

  get extra(): Record<string, unknown> {
    return this.options.extra ?? {};
  }
}

function describeAsked(asked: unknown): string {
  if (typeof asked === "string") return `${JSON.stringify(asked.slice(0, 60))} is not an app here`;
  if (asked === undefined) return "Name the app to launch";
  return `The app must be one name, not ${Array.isArray(asked) ? "a list" : asked === null ? "null" : `a ${typeof asked}`}`;
}

/** The status and the sentence for each refusal of the core. */
export function problemFromDomain(error: DomainError): ProblemError {
  const data: DomainErrorData = error.data;
  const inAbout = (seconds: number) => `Try again in about ${formatDuration(seconds * 1000)}.`;
  switch (data.code) {
    case "unknown-app":
      return new ProblemError("unknown-app", `${describeAsked(data.asked)}; allowed: ${data.allowed.join(", ")}.`, { extra: { allowed: data.allowed } });
    case "no-room":
      return new ProblemError("full", `All ${data.maxDemos} demo slots are in use${data.lineLength > 0 ? " and the waiting line is full" : ""}. ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "shutting-down":
      return new ProblemError("full", "The launcher is shutting down; try again in a moment.", { retryAfterSeconds: data.retryAfterSeconds });
    case "rate-limited":
      return new ProblemError("rate-limited", `${data.network ? "Your network" : "You"} launched ${data.launches} demos in the last ${formatDuration(data.windowMs)}. ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "disk-low":
      // Visitors learn only that the host is full; the operator's log and console say how full.
      return new ProblemError("unavailable", `The launcher's host is short of disk space, so no demo can start now. ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "network-full":
      return new ProblemError("rate-limited", `Visitors from your network already have ${data.demos} demos, as many as one network may have. ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "no-such-demo":
      return new ProblemError("not-found", `There is no live demo ${data.id}.`);
    case "still-queued":
      return new ProblemError("bad-request", `Demo ${data.id} is still waiting in line; its time starts when it starts.`);
    case "shared-no-time-box":
      return new ProblemError("bad-request", `${data.id} is a shared demo: it has no time box to extend (it runs while the config names it; its resets follow its schedule).`);
    case "extension-out-of-range":
      return new ProblemError("bad-request", `An extension must be from ${formatDuration(data.minMs)} to ${formatDuration(data.maxMs)}.`);
    case "too-much-time-left":
      return new ProblemError("bad-request", `A demo may have at most ${formatDuration(data.maxRemainingMs)} left; ${data.id} would have ${formatDuration(data.wouldHaveMs)}.`);
    case "not-replaceable":
      return new ProblemError("conflict", `Demo ${data.id} is ${data.status}; only a ready demo can be replaced.`, { extra: { demoStatus: data.status } });
    case "no-such-service":
      return new ProblemError("not-found", data.services.length ? `Demo ${data.id} has no service ${JSON.stringify(data.service.slice(0, 60))}; its services: ${data.services.join(", ")}.` : `Demo ${data.id} is a single container: it has no services to name.`, { extra: { services: data.services } });
    case "not-for-environments":
      return new ProblemError("conflict", `Demo ${data.id} is an environment of several services (a Compose file): ${data.what}.`);
    case "replacement-running":
      return new ProblemError("conflict", `Demo ${data.id} is already being replaced by ${data.image}; wait until that ends.`);
    case "missing-image":
      return new ProblemError("bad-request", `The image ${data.image} is not on this host; build or load it first.`);
    case "build-queue-full":
      return new ProblemError("full", `All ${data.queueLength} places in the build queue are taken. ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "unknown-source":
      return new ProblemError("not-found", `${typeof data.asked === "string" ? JSON.stringify(data.asked.slice(0, 60)) : "That"} is not a preview source here; sources: ${data.allowed.join(", ") || "none configured"}.`, { extra: { allowed: data.allowed } });
    case "unknown-ref":
      return new ProblemError("not-found", `${data.source} has no ${data.kind} ${JSON.stringify(data.ref.slice(0, 100))}.${data.branches.length ? ` Branches${data.kind === "branch" ? ", closest first" : ""}: ${data.branches.slice(0, 10).join(", ")}${data.branches.length > 10 ? ", …" : ""}.` : ""}`, { extra: { branches: data.branches } });
    case "repo-unreachable":
      return new ProblemError("unavailable", `The repository of ${data.source} cannot be fetched right now (${data.why}). ${inAbout(data.retryAfterSeconds)}`, { retryAfterSeconds: data.retryAfterSeconds });
    case "demo-ended":
      return new ProblemError("conflict", `Demo ${data.id} has ended; only a live demo can be rewound.`);
    case "no-state-sources":
      return new ProblemError("conflict", `The app ${data.app} has no state sources to rewind to (apps.${data.app}.state in the config).`);
    case "unknown-state-source":
      return new ProblemError("not-found", `${JSON.stringify(data.asked.slice(0, 60))} is not a state source of ${data.app}; sources: ${data.allowed.join(", ")}.`, { extra: { allowed: data.allowed } });
    case "not-rewindable":
      return new ProblemError("conflict", `Demo ${data.id} is ${data.status}; only a ready demo can be rewound.`, { extra: { demoStatus: data.status } });
    case "no-such-job":
      return new ProblemError("not-found", `There is no job ${data.id}.`);
    case "no-such-shared":
      return new ProblemError("not-found", `There is no shared demo ${JSON.stringify(data.name.slice(0, 60))}; shared demos: ${data.allowed.join(", ") || "none configured"}.`, { extra: { allowed: data.allowed } });
    case "bad-ref":
      return new ProblemError("bad-request", `${JSON.stringify(data.ref)} is not a valid ref: ${data.why}.`);
  }
}

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

/** The problem an error stands for, or undefined when it is a bug of ours (a plain 500). */
export function asProblem(error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  if (error instanceof DomainError) return problemFromDomain(error);
  return fromFrameworkError(error as { statusCode?: number; code?: string; message: string });
}
