// What a service waits for before it starts: its dependencies started, healthy (told by Docker's events) or finished with 0, within the environment's start timeout.
import type Docker from "dockerode";
import type { ServiceSpec } from "../core/environments/environment-spec.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { call } from "./engine-api.js";
import { demultiplex } from "./exec.js";
import { engineHonoursStartInterval, noteProbedHealthy, probeDuringStartPeriod, type StartProbe } from "./start-interval.js";

/**
 * Waits until a dependency is what its dependant asked for: started (already), healthy, or exited with 0. `startProbe`:
 * the dependency's start_interval and start_period, probed by the controller where the engine ignores them.
 */
export async function awaitCondition(docker: Docker, containerId: string, service: string, condition: ServiceSpec["dependsOn"][number]["condition"], deadline: number, startProbe?: StartProbe): Promise<void> {
  if (condition === "service_started") return;
  const container = docker.getContainer(containerId);
  const left = () => Math.max(1, deadline - systemScheduler.now());
  if (condition === "service_completed_successfully") {
    const result = (await bounded(container.wait() as Promise<{ StatusCode: number }>, left(), `${service} did not finish in time`)) as { StatusCode: number };
    if (result.StatusCode !== 0) throw new Error(`service ${service} exited with code ${result.StatusCode}${await tailOf(container)}`);
    return;
  }
  // Healthy: Docker's events say when the status changes; the inspect after subscribing catches one that already did.
  const events = (await call(() => docker.getEvents({ filters: { container: [containerId], event: ["health_status", "die"] } }))) as NodeJS.ReadableStream & { destroy?: () => void };
  const probing = new AbortController();
  try {
    const emulate = startProbe !== undefined && !(await engineHonoursStartInterval(docker));
    // Never resolves when it finds nothing: Docker's own status (by the events below) decides then. One per wait
    // (races leave their reactions on it).
    const never = new Promise<never>(() => {});
    const probedHealthy = emulate ? probeDuringStartPeriod(docker, containerId, startProbe, probing.signal).catch(() => false).then((healthy) => (healthy ? PROBED_HEALTHY : never)) : never;
    const changed = new Promise<string>((resolve, reject) => {
      events.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
          const event = JSON.parse(line) as { Action?: string; status?: string };
          const action = event.Action ?? event.status ?? "";
          if (action === "die" || action.startsWith("health_status")) resolve(action);
        }
      });
      events.on("error", reject);
    });
    for (;;) {
      const info = await call(() => container.inspect());
      const health = info.State.Health as { Status: string; Log?: Array<{ Output: string }> } | undefined;
      if (!health) throw new Error(`service ${service} has no healthcheck, yet another service waits for it to be healthy (depends_on condition: service_healthy)`);
      if (health.Status === "healthy") return;
      // Exited first: Docker calls a stopped container unhealthy too, and its own last lines say more.
      if (!info.State.Running) throw new Error(`service ${service} exited with code ${info.State.ExitCode} before it was healthy${await tailOf(container)}`);
      if (health.Status === "unhealthy") throw new Error(`service ${service} is unhealthy: ${health.Log?.at(-1)?.Output.trim().slice(0, 300) || "its healthcheck said nothing"}`);
      if ((await bounded(Promise.race([changed, probedHealthy]), left(), `service ${service} was not healthy within the app's readiness timeout`)) === PROBED_HEALTHY) {
        noteProbedHealthy(containerId);
        return;
      }
    }
  } finally {
    probing.abort();
    events.destroy?.();
  }
}

const PROBED_HEALTHY = "healthy by the controller's start-period probe";

async function bounded<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let cancel = () => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = systemScheduler.after(ms, () => reject(new Error(message)), { keepAlive: true });
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    cancel();
  }
}

async function tailOf(container: Docker.Container): Promise<string> {
  try {
    const buffer = (await container.logs({ stdout: true, stderr: true, tail: 5, follow: false })) as unknown as Buffer;
    const text = demultiplex(buffer).trim();
    return text ? ` (its last lines: ${text.split("\n").slice(-5).join(" / ").slice(0, 400)})` : "";
  } catch {
    return "";
  }
}
