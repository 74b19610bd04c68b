// What the previews need of a forge's API, whichever forge it is: a commit status, the one comment on a change
// (found, made, edited), its open changes and whether someone may push. github/api.ts and gitlab/api.ts implement
// it; the outbox, the reconciler and the hooks use nothing else.
import type { Forge } from "../core/forges/forge-intent.js";

export type StatusState = "pending" | "success" | "failure" | "error";

/** An open pull or merge request, as the reconciler compares it with the previews that run. */
export interface OpenChange {
  number: number;
  commit: string;
  /** Its last update (ms), the version a build from it gets. */
  updatedAt: number;
  fork: boolean;
  labels: string[];
  author: string;
  authorId?: number;
}

export interface ForgeApi {
  readonly forge: Forge;
  setStatus(repo: string, commit: string, state: StatusState, description: string, targetUrl?: string): Promise<void>;
  /** The id of the comment carrying `marker` on the change, if there is one. */
  findComment(repo: string, change: number, marker: string): Promise<number | undefined>;
  createComment(repo: string, change: number, body: string): Promise<number>;
  editComment(repo: string, change: number, id: number, body: string): Promise<void>;
  /** Every open change whose head is a commit (up to the forge's first 1000). */
  openChanges(repo: string): Promise<OpenChange[]>;
  /** Whether the user may push to the project; undefined when the forge could not be asked. */
  canPush(repo: string, user: { name: string; id?: number }): Promise<boolean | undefined>;
}

/**
 * An answer of the forge that was not a success, shaped like Octokit's (status, response headers), so the outbox
 * reads Retry-After and rate limits the same way from either forge.
 */
export class ForgeHttpError extends Error {
  readonly response: { headers: Record<string, string> };
  constructor(readonly status: number, message: string, headers: Record<string, string>) {
    super(message);
    this.response = { headers };
  }
}
