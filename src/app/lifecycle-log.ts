// The lifecycle log: one line for each thing that happens to a demo (launch accepted or refused, ready, extended, ended, replaced, rewound, reset).
import type { EngineEvent, EventSink } from "../core/events.js";
import type { Logger } from "../logger.js";

const seconds = (value: number) => `${value.toFixed(2)} s`;

export function describeEvent(event: EngineEvent): { level: "info" | "warn"; text: string } | undefined {
  switch (event.type) {
    case "launch-accepted":
      return { level: "info", text: `launch accepted: demo ${event.id} of ${event.app}${event.warm ? " (a warm pool member)" : event.queued ? " (waiting in line)" : ""}` };
    case "launch-refused":
      return { level: "info", text: `launch refused: ${event.app} (${event.reason})` };
    case "ready":
      return { level: "info", text: `demo ${event.id} of ${event.app} ready in ${seconds(event.seconds)}${event.kind === "visitor" ? "" : ` (${event.kind})`}` };
    case "ended":
      return { level: event.status === "failed" ? "warn" : "info", text: `demo ${event.id} of ${event.app} ${event.status}: ${event.reason}` };
    case "extended":
      return { level: "info", text: `demo ${event.id} of ${event.app} extended by ${seconds(event.byMs / 1000)}` };
    case "replaced":
      return { level: event.outcome === "failed" ? "warn" : "info", text: event.outcome === "succeeded" ? `demo ${event.id} of ${event.app} now served by ${event.image} (replaced in ${seconds(event.seconds)})` : `replacing demo ${event.id} of ${event.app} with ${event.image} failed; the old instance keeps serving: ${event.reason ?? "no reason given"}` };
    case "rewound":
      return { level: event.outcome === "failed" ? "warn" : "info", text: event.outcome === "done" ? `demo ${event.id} of ${event.app} rewound to ${event.source} in ${seconds(event.seconds)}` : `rewinding demo ${event.id} of ${event.app} to ${event.source} failed; it keeps its previous state: ${event.reason ?? "no reason given"}` };
    case "reset":
      return { level: event.outcome === "failed" ? "warn" : "info", text: event.outcome === "succeeded" ? `shared demo ${event.id} reset (${event.trigger}) in ${seconds(event.seconds)}` : `resetting shared demo ${event.id} (${event.trigger}) failed; its replicas keep serving: ${event.reason ?? "no reason given"}` };
    case "moved":
      return { level: "warn", text: `demo ${event.id} of ${event.app} moved to ${event.endpoint}${event.kind === "visitor" ? " and started fresh (its visitor is told)" : ""}` };
    default:
      return undefined;
  }
}

export function lifecycleLog(logger: Logger): EventSink {
  return (event) => {
    const line = describeEvent(event);
    if (!line) return;
    // A JSON log keeps the facts as keys: one launch is followed by its request id from the click to the route.
    const { type, ...facts } = event;
    logger[line.level](line.text, { event: type, ...("id" in facts ? { demo: facts.id } : {}), ...facts });
  };
}
