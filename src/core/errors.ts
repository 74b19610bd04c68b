// Errors that carry data, not words: src/http turns them into statuses and sentences, the CLI into one line.

/** What went wrong, with the facts a message needs; one case per thing a caller can do differently. */
export type DomainErrorData =
  | { code: "unknown-app"; asked: unknown; allowed: string[] }
  | { code: "no-room"; maxDemos: number; lineLength: number; retryAfterSeconds: number }
  | { code: "shutting-down"; retryAfterSeconds: number }
  | { code: "rate-limited"; launches: number; windowMs: number; retryAfterSeconds: number; network?: boolean }
  /** Visitors of one network (an IPv4 /24, an IPv6 /64 by default) hold as many demos as it may have. */
  | { code: "network-full"; demos: number; retryAfterSeconds: number }
  /** The host's disk is below its floor (limits.minFreeDisk): no new demo until space is freed. */
  | { code: "disk-low"; freeBytes: number; floorBytes: number; retryAfterSeconds: number }
  | { code: "no-such-demo"; id: string }
  | { code: "still-queued"; id: string }
  /** Shared demos live as long as the config names them: there is no time box to extend. */
  | { code: "shared-no-time-box"; id: string }
  | { code: "extension-out-of-range"; id: string; byMs: number; minMs: number; maxMs: number }
  | { code: "too-much-time-left"; id: string; maxRemainingMs: number; wouldHaveMs: number }
  | { code: "not-replaceable"; id: string; status: string }
  | { code: "not-for-environments"; id: string; what: string }
  | { code: "no-such-service"; id: string; service: string; services: string[] }
  | { code: "replacement-running"; id: string; image: string }
  | { code: "missing-image"; image: string }
  | { code: "bad-ref"; ref: string; why: string }
  | { code: "build-queue-full"; queueLength: number; retryAfterSeconds: number }
  | { code: "unknown-source"; asked: unknown; allowed: string[] }
  /** A branch or commit the repository does not have; `branches`: the ones it has, closest first. */
  | { code: "unknown-ref"; source: string; ref: string; kind: "branch" | "commit"; branches: string[] }
  | { code: "repo-unreachable"; source: string; why: string; retryAfterSeconds: number }
  | { code: "demo-ended"; id: string }
  | { code: "no-state-sources"; app: string }
  | { code: "unknown-state-source"; app: string; asked: string; allowed: string[] }
  | { code: "not-rewindable"; id: string; status: string }
  | { code: "no-such-job"; id: string }
  | { code: "no-such-shared"; name: string; allowed: string[] };

export type DomainErrorCode = DomainErrorData["code"];

/** A refusal the caller caused or must be told about; never a bug of ours. */
export class DomainError<Data extends DomainErrorData = DomainErrorData> extends Error {
  constructor(readonly data: Data) {
    super(`${data.code}: ${JSON.stringify(data)}`);
    this.name = "DomainError";
  }
}

export function isDomainError<Code extends DomainErrorCode>(error: unknown, code: Code): error is DomainError<Extract<DomainErrorData, { code: Code }>> {
  return error instanceof DomainError && error.data.code === code;
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

/** A command used wrongly (a value it cannot take): one line naming the value and what it takes, exit code 2. */
export class UsageError extends Error {}
