// Typed errors that carry data; the HTTP layer turns them into problem+json, the CLI into one line.
export type ProblemKind =
  | "bad-request"
  | "unknown-app"
  | "not-found"
  | "full"
  | "rate-limited"
  | "unauthorized"
  | "unsupported-media-type"
  | "payload-too-large"
  | "method-not-allowed"
  | "forbidden"
  | "misdirected";

const STATUS_BY_KIND: Record<ProblemKind, number> = {
  "bad-request": 400,
  "unknown-app": 400,
  "not-found": 404,
  full: 429,
  "rate-limited": 429,
  unauthorized: 401,
  forbidden: 403,
  "unsupported-media-type": 415,
  "payload-too-large": 413,
  "method-not-allowed": 405,
  misdirected: 421,
};

const TITLE_BY_KIND: Record<ProblemKind, string> = {
  "bad-request": "Bad request",
  "unknown-app": "Unknown app",
  "not-found": "Not found",
  full: "No room for another demo right now",
  "rate-limited": "Too many launches",
  unauthorized: "Admin token required",
  forbidden: "Not allowed from this origin",
  "unsupported-media-type": "Unsupported media type",
  "payload-too-large": "Request body too large",
  "method-not-allowed": "Method not allowed",
  misdirected: "Wrong host",
};

/** An error a client caused or must be told about; never a bug of ours. */
export class ProblemError extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ProblemKind, detail: string, options: { extra?: Record<string, unknown>; retryAfterSeconds?: number } = {}) {
    super(detail);
    this.name = "ProblemError";
    this.kind = kind;
    this.status = STATUS_BY_KIND[kind];
    this.title = TITLE_BY_KIND[kind];
    this.extra = options.extra ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A failure of the host's set-up (Docker unreachable, nginx missing): the operator must act. */
export class SetupError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "SetupError";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A lasting fault (a full disk, a stopped nginx), reported once and its end once. Two reports are the same
 * fault when their words match, not the timestamps, pids, temp-file names or generations inside them.
 */
export class LastingFault {
  private current: string | undefined;

  get active(): boolean {
    return this.current !== undefined;
  }

  /** Records the fault; true when it is new and should be reported. */
  record(message: string): boolean {
    const isNew = this.current === undefined || sameWords(message) !== sameWords(this.current);
    this.current = message;
    return isNew;
  }

  /** Ends it; returns what it was when there was one to report the end of. */
  clear(): string | undefined {
    const last = this.current;
    this.current = undefined;
    return last;
  }
}

function sameWords(message: string): string {
  return message.replace(/\d+/g, "#");
}
