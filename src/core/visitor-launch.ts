// A visitor's launch: refused, given their live demo back, a warm pool member, a new demo, or a place in line.
import { admit, networkOf, networkRateKey, resolveApp } from "./admission.js";
import type { DemoEngine, LaunchResult } from "./engine.js";
import { DomainError } from "./errors.js";
import { runLaunch } from "./launch.js";
import type { LaunchRateLimiter } from "./limits.js";
import type { Demo } from "./model.js";
import { claim, ensurePools, readyPoolMember } from "./pool.js";
import { acceptedDemo } from "./waiting-line.js";

/** Answers at once; the container is created and followed in the background. */
export async function launchForVisitor(engine: DemoEngine, rate: LaunchRateLimiter, newId: () => string, appName: unknown, owner: string | undefined, requestId?: string): Promise<LaunchResult> {
  if (engine.shuttingDown) {
    engine.emit({ type: "launch-refused", app: String(appName), reason: "shutting-down" });
    throw new DomainError({ code: "shutting-down", retryAfterSeconds: 5 });
  }
  const { name, app } = resolveOrRefuse(engine, appName);
  const now = engine.now();
  let admission: ReturnType<typeof admit>;
  try {
    admission = admit({ demos: engine.registry.all(), queued: engine.registry.queue.length, limits: engine.options.limits, owner, ttl: app.ttl, rate: rate, now });
  } catch (error) {
    engine.emit({ type: "launch-refused", app: name, reason: error instanceof DomainError && (error.data.code === "rate-limited" || error.data.code === "network-full") ? "rate-limited" : "full" });
    throw error;
  }
  if (admission.decision === "existing") return { demo: admission.demo, created: false };
  // Below the free-disk floor nothing new starts; a visitor who has a demo still gets it back (above).
  if (engine.diskLow) {
    engine.emit({ type: "launch-refused", app: name, reason: "full" });
    throw new DomainError({ code: "disk-low", ...engine.diskLow, retryAfterSeconds: 60 });
  }
  if (owner) {
    rate.record(owner, now);
    rate.record(networkRateKey(networkOf(owner)), now);
  }
  if (admission.decision === "start") {
    const warm = readyPoolMember(engine, name);
    if (warm) {
      await claim(engine, warm, app, owner);
      if (requestId) warm.requestId = requestId;
      engine.emit({ type: "launch-accepted", id: warm.id, app: name, queued: false, warm: true, ...(requestId ? { requestId } : {}) });
      ensurePools(engine, newId);
      return { demo: warm, created: true };
    }
  }
  const startsNow = admission.decision === "start";
  const demo: Demo = {
    ...acceptedDemo(engine, { id: newId(), app: name, queuedAt: now, ...(owner ? { client: owner } : {}) }, startsNow ? "starting" : "queued"),
    ...(startsNow ? {} : { lastSeenAt: now }),
    ...(requestId ? { requestId } : {}),
  };
  engine.registry.add(demo);
  if (startsNow) engine.track(runLaunch(engine, demo, app));
  else engine.registry.queue.push(demo.id);
  // On disk before the visitor learns the URL, so a restart never forgets a launch it accepted.
  await engine.saver.save();
  engine.emit({ type: "launch-accepted", id: demo.id, app: name, queued: !startsNow, warm: false, ...(requestId ? { requestId } : {}) });
  return { demo, created: true };
}

function resolveOrRefuse(engine: DemoEngine, appName: unknown): ReturnType<typeof resolveApp> {
  try {
    return resolveApp(appName, engine.options.apps);
  } catch (error) {
    engine.emit({ type: "launch-refused", app: typeof appName === "string" ? appName.slice(0, 40) : "?", reason: "unknown-app" });
    throw error;
  }
}
