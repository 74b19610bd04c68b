// The git mirror of each preview source: one fetch at a time per repo, the branch list as of the last fetch,
// and whether the repo could be reached (shown on preview pages and in the API).
import type { PreviewConfig } from "../config/schema.js";
import { describeError } from "../core/errors.js";
import { singleFlight } from "../core/single-flight.js";
import { GitError, GitMirror } from "./git.js";
import { redactSecrets } from "./redact.js";

export interface MirrorState {
  mirror: GitMirror;
  /** When the last fetch succeeded (0: never in this run). */
  fetchedAt: number;
  branches: Map<string, string>;
  /** Why the last fetch failed, in git's words; cleared by a fetch that works. */
  lastError?: string;
  fetch: () => Promise<void>;
}

/** The words of a failed fetch: git's last lines, not a stack. */
export function fetchFailure(error: unknown): string {
  return redactSecrets(`the repository could not be fetched: ${error instanceof GitError ? error.output.split("\n").filter(Boolean).slice(-2).join(" ") : describeError(error)}`, []);
}

export class Mirrors {
  private readonly states = new Map<string, MirrorState>();

  constructor(private readonly stateDir: string, private readonly previews: Record<string, PreviewConfig>, private readonly now: () => number) {}

  get(source: string): MirrorState {
    let state = this.states.get(source);
    if (!state) {
      const mirror = GitMirror.forRepo(this.stateDir, this.previews[source]!.repo);
      const created: MirrorState = {
        mirror,
        fetchedAt: 0,
        branches: new Map(),
        // Builds and page visits of one repo that ask together share one fetch.
        fetch: singleFlight(async () => {
          try {
            await mirror.fetch();
          } catch (error) {
            created.lastError = fetchFailure(error);
            throw new Error(created.lastError);
          }
          created.branches = await mirror.branches();
          created.fetchedAt = this.now();
          delete created.lastError;
        }),
      };
      state = created;
      this.states.set(source, state);
    }
    return state;
  }

  /** The branch list, fetched again when older than `maxAgeMs`; a failed fetch leaves the last list (and throws). */
  async branches(source: string, maxAgeMs: number): Promise<Map<string, string>> {
    const state = this.get(source);
    if (state.fetchedAt === 0 || this.now() - state.fetchedAt >= maxAgeMs) await state.fetch();
    return state.branches;
  }
}
