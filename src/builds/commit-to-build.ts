// The commit a build builds: a commit the mirror has needs no fetch; a branch always takes the newest. A fetch that
// fails is tried again with growing pauses (the build says so while it waits) before the build fails.
import { Backoff } from "../core/backoff.js";
import type { Build } from "../core/builds/build-queue.js";
import { describeError } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";
import type { Mirrors } from "./mirrors.js";

/** A fetch that fails is tried this many times in all, with growing pauses, before the build fails. */
const FETCH_TRIES = 4;

/** A build that cannot go on, in words for the preview's page. */
export class BuildFailure extends Error {}

/** A build whose pull request moved on to a newer commit before this one could be fetched. */
export class Superseded extends Error {}

export interface CommitSources {
  mirrors: Mirrors;
  scheduler: Scheduler;
  /** The first pause before a failed fetch is tried again (it doubles each time). */
  firstRetryMs: number;
  /** A fetch failed and is tried again: says so on the build (its note, its log). */
  waiting: (note: string) => Promise<void>;
  /** Whether a newer version of the build's pull request was asked for meanwhile. */
  superseded: () => boolean;
}

export async function commitToBuild(build: Build, signal: AbortSignal, sources: CommitSources): Promise<string> {
  const state = sources.mirrors.get(build.source);
  if (build.commit) {
    const known = await state.mirror.resolveCommit(build.commit).catch(() => undefined);
    if (known) return known;
  }
  const backoff = new Backoff({ firstMs: sources.firstRetryMs, maxMs: 60_000 });
  for (let attempt = 1; ; attempt += 1) {
    try {
      await state.fetch();
      break;
    } catch (error) {
      const reason = describeError(error);
      if (attempt >= FETCH_TRIES || signal.aborted) throw new BuildFailure(reason);
      const pause = backoff.next();
      await sources.waiting(`${reason}; trying again in ${Math.ceil(pause / 1000)} s (try ${attempt + 1} of ${FETCH_TRIES})`);
      await sources.scheduler.sleep(pause, signal);
    }
  }
  const commit = build.branch ? state.branches.get(build.branch) : await state.mirror.resolveCommit(build.commit!);
  // A force-push moved the pull request on: its old commit is gone from the repository, and a newer one is coming.
  if (!commit && build.host && sources.superseded()) throw new Superseded();
  if (!commit) throw new BuildFailure(build.branch ? `there is no branch ${build.branch} in ${build.source}` : `there is no commit ${build.commit} in ${build.source}`);
  return commit;
}
