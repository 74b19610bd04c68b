// A healthcheck's start_interval on engines that ignore it (API before 1.44, Docker 20.10–24, Debian bookworm's): the controller probes as Docker 25 would while a service starts.
import type Docker from "dockerode";
import type { ServiceSpec } from "../core/environments/environment-spec.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { execInContainer } from "./exec.js";

/** Docker 25 (Engine API 1.44) runs the checks at start_interval during start_period; older engines drop the field. */
const FIRST_API_WITH_START_INTERVAL = [1, 44] as const;
/** Docker's own default when a healthcheck names no timeout. */
const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

const honours = new WeakMap<Docker, Promise<boolean>>();

/** Whether this engine runs start_interval itself; asked once per client (an unreachable engine counts as honouring it: nothing is emulated). */
export function engineHonoursStartInterval(docker: Docker): Promise<boolean> {
  let known = honours.get(docker);
  if (!known) {
    known = docker.version().then(
      (version) => apiAtLeast(version.ApiVersion, FIRST_API_WITH_START_INTERVAL),
      () => true,
    );
    honours.set(docker, known);
  }
  return known;
}

/** Containers the start probe found healthy (their ids), the newest last; bounded: ids of removed ones age out. */
const probedHealthy = new Set<string>();
const PROBED_HEALTHY_KEPT = 10_000;

/** Notes that the start probe passed in this container: it counts as healthy while Docker's own status still says starting. */
export function noteProbedHealthy(containerId: string): void {
  probedHealthy.delete(containerId);
  probedHealthy.add(containerId);
  if (probedHealthy.size > PROBED_HEALTHY_KEPT) probedHealthy.delete(probedHealthy.values().next().value!);
}

/**
 * A container's health as the controller knows it: Docker's own, but "healthy" for one Docker still calls starting
 * whose start probe passed (Docker's first check comes only after `interval`; the console would say starting).
 */
export function healthSeen(containerId: string, dockerHealth: "healthy" | "unhealthy" | "starting"): "healthy" | "unhealthy" | "starting" {
  return dockerHealth === "starting" && probedHealthy.has(containerId) ? "healthy" : dockerHealth;
}

export function apiAtLeast(apiVersion: string | undefined, [major, minor]: readonly [number, number]): boolean {
  const [have, haveMinor] = (apiVersion ?? "0.0").split(".").map(Number);
  return have! > major || (have === major && (haveMinor ?? 0) >= minor);
}

/** The argv Docker runs for a healthcheck's test ([] when there is none to run). */
export function probeArgv(test: string[] | undefined): string[] {
  if (!test || test.length === 0 || test[0] === "NONE") return [];
  if (test[0] === "CMD") return test.slice(1);
  if (test[0] === "CMD-SHELL") return ["/bin/sh", "-c", test.slice(1).join(" ")];
  return [];
}

export interface StartProbe {
  startIntervalMs: number;
  startPeriodMs: number;
}

/** A service's start_interval with its start_period (Docker 25 uses the one only during the other), when it has both. */
export function startProbeOf(service: ServiceSpec | undefined): StartProbe | undefined {
  const health = service?.healthcheck;
  return health?.startIntervalMs && health.startPeriodMs ? { startIntervalMs: health.startIntervalMs, startPeriodMs: health.startPeriodMs } : undefined;
}

/**
 * Runs the container's own healthcheck (the image's merged with the file's, as Docker holds it) every start_interval
 * until one passes (resolves true) or the start period is over, the container stops or `signal` aborts (false).
 * Failures inside the start period do not count, as in Docker; from then on Docker's own checks, at `interval`, decide.
 * Why: with `interval: 30s`, `start_interval: 1s` (idle demos cost little: each check is a process started in the
 * container) a dependant on such an engine would wait 30 s for the first check.
 */
export async function probeDuringStartPeriod(docker: Docker, containerId: string, probe: StartProbe, signal: AbortSignal): Promise<boolean> {
  const container = docker.getContainer(containerId);
  const info = await container.inspect();
  const argv = probeArgv(info.Config.Healthcheck?.Test);
  if (argv.length === 0) return false;
  const timeoutMs = info.Config.Healthcheck?.Timeout ? info.Config.Healthcheck.Timeout / 1_000_000 : DEFAULT_PROBE_TIMEOUT_MS;
  const periodEnds = Date.parse(info.State.StartedAt) + probe.startPeriodMs;
  while (!signal.aborted && systemScheduler.now() < periodEnds) {
    const result = await execInContainer(docker, containerId, { argv, timeoutMs }).catch(() => undefined);
    if (result?.exitCode === 0) return true;
    // No exec at all: the container stopped or went away (Docker refuses an exec there); the caller hears why from
    // Docker's events. A check that ran and failed was in a running container: the next one is tried.
    if (!result) return false;
    await new Promise<void>((resolve) => {
      // One listener at a time: a slow start runs hundreds of probes, each would leave its own on the signal.
      const stop = () => (cancel(), resolve());
      const cancel = systemScheduler.after(probe.startIntervalMs, () => (signal.removeEventListener("abort", stop), resolve()), { keepAlive: true });
      signal.addEventListener("abort", stop, { once: true });
    });
  }
  return false;
}
