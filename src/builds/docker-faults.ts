// Telling a build that failed because Docker went away (a daemon restart) from one the commit caused, and
// waiting for a daemon that is coming back.
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";

/** The Docker daemon stopped answering (a restart), as opposed to the Dockerfile failing. */
export function dockerWentAway(error: unknown): boolean {
  return /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|ENOENT.*docker\.sock|aborted|without an image/i.test(describeError(error));
}

/** Failures the Dockerfile or the commit caused (a step that exited by itself, a missing file, a syntax error). */
export function theCommitsFault(error: unknown): boolean {
  const message = describeError(error);
  const exit = /returned a non-zero code: (\d+)/.exec(message);
  // 137 and 143: the step was killed (SIGKILL, SIGTERM), which is what a daemon going down does to it.
  if (exit) return exit[1] !== "137" && exit[1] !== "143";
  return /COPY failed|ADD failed|dockerfile parse error|unknown instruction|failed to compute cache key|Cannot locate specified Dockerfile|no such file or directory|not found/i.test(message);
}

/**
 * Whether the daemon stops answering within a few seconds of a failure: a daemon going down still answers
 * for a moment and fails the build with anything (a killed RUN step, a failed mount), not the commit's fault.
 */
export async function dockerGoesAway(docker: Pick<Docker, "ping">, scheduler: Scheduler): Promise<boolean> {
  for (let waited = 0; waited < 5000; waited += 250) {
    const stop = new AbortController();
    const answered = await Promise.race([docker.ping().then(() => true, () => false), scheduler.sleep(1000, stop.signal).then(() => false)]);
    stop.abort();
    if (!answered) return true;
    await scheduler.sleep(250);
  }
  return false;
}

/**
 * A build waits (up to a minute) for a Docker daemon that is restarting instead of failing at once; `say(true)`
 * when it starts waiting, `say(false)` when Docker answers again after a wait.
 */
export async function untilDockerAnswers(docker: Pick<Docker, "ping">, scheduler: Scheduler, signal: AbortSignal, say: (waiting: boolean) => Promise<void>): Promise<void> {
  const deadline = scheduler.now() + 60_000;
  for (let waited = false; ; waited = true) {
    if (await docker.ping().then(() => true, () => false)) {
      if (waited) await say(false);
      return;
    }
    if (signal.aborted || scheduler.now() > deadline) return;
    if (!waited) await say(true);
    await scheduler.sleep(1000, signal);
  }
}
