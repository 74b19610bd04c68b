// What happens to demos, as events the edges observe (metrics count them, the log tells them); the core only emits.

export type EngineEvent =
  | { type: "launch-accepted"; id: string; app: string; queued: boolean; warm: boolean; requestId?: string }
  | { type: "launch-refused"; app: string; reason: "full" | "rate-limited" | "shutting-down" | "unknown-app" }
  | { type: "ready"; id: string; app: string; kind: string; seconds: number; requestId?: string }
  | { type: "ended"; id: string; app: string; kind: string; status: "expired" | "stopped" | "failed"; reason: string; requestId?: string }
  | { type: "extended"; id: string; app: string; byMs: number }
  | { type: "replaced"; id: string; app: string; image: string; outcome: "succeeded" | "failed"; seconds: number; reason?: string }
  | { type: "rewound"; id: string; app: string; source: string; outcome: "done" | "failed"; seconds: number; reason?: string }
  | { type: "reset"; id: string; app: string; trigger: string; outcome: "succeeded" | "failed"; seconds: number; reason?: string }
  | { type: "moved"; id: string; app: string; kind: string; endpoint: string }
  | { type: "routes-applied"; seconds: number };

export type EventSink = (event: EngineEvent) => void;

/** Calls every sink; a sink that throws is a bug of that edge, never a reason for a launch to fail. */
export function emitTo(sinks: readonly EventSink[] | undefined, event: EngineEvent): void {
  for (const sink of sinks ?? []) {
    try {
      sink(event);
    } catch {
      // deliberately ignored: observers must not change what happens
    }
  }
}
