// Calls to the Docker Engine API: a time limit on each, "nobody answered" told apart from "Docker said no".
import Docker from "dockerode";
import { SetupError, describeError } from "../core/errors.js";
import { RuntimeUnavailableError } from "../core/runtime.js";
import { systemScheduler } from "../clock/system-scheduler.js";

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

/** Errors that mean "nobody answered" (daemon stopped or restarting), not "Docker said no". */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

export function isDockerUnavailable(error: unknown): boolean {
  if (error instanceof RuntimeUnavailableError) return true;
  const code = (error as NodeJS.ErrnoException)?.code;
  return (code !== undefined && UNAVAILABLE_CODES.has(code)) || /socket hang up/i.test(describeError(error)) || STILL_STARTING.test(describeError(error));
}

/** A daemon just back refuses container starts with this 500 until its network store is open: waited out like an outage. */
const STILL_STARTING = /failed to update store for object type \*libnetwork/i;

/** How long one Engine API call may take; creating and starting a container may take longer than the rest. */
export const CALL_TIMEOUT_MS = 15_000;
export const CREATE_TIMEOUT_MS = 60_000;

/**
 * Runs one Engine API call, turning "nobody answered" into RuntimeUnavailableError for the engine. A daemon
 * that is shutting down can accept a connection and never answer: without a limit, that call would hold
 * the reaper forever.
 */
export async function call<T>(work: () => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
  let cancel = () => {};
  const timeout = new Promise<never>((_resolve, reject) => {
    cancel = systemScheduler.after(timeoutMs, () => reject(new RuntimeUnavailableError(`no answer within ${timeoutMs / 1000} s`)), { keepAlive: true });
  });
  try {
    return await Promise.race([work(), timeout]);
  } catch (error) {
    if (isDockerUnavailable(error)) throw error instanceof RuntimeUnavailableError ? error : new RuntimeUnavailableError(describeError(error));
    throw error;
  } finally {
    cancel();
  }
}

export function connectDocker(): Docker {
  // DOCKER_HOST and the default socket are honoured by docker-modem.
  return new Docker();
}

export async function assertDockerReachable(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new SetupError(`Docker is not reachable (${describeError(error)})`, "start dockerd (`npm start` does) or give this user access to /var/run/docker.sock");
  }
}
