// The only place a demo's status and step and an instance's health change. The registry makes these fields
// observable (core/transitions.ts), so a change here is what wakes every flow waiting on that demo.
import type { Demo, DemoStatus, Instance, InstanceHealth, LaunchStep } from "./model.js";

/** The demo moves to another step of its launch (or wake); its status stays. */
export function toStep(demo: Demo, step: LaunchStep): void {
  demo.step = step;
}

/** The demo's status changes, with the step it is at now when that changes too. */
export function toStatus(demo: Demo, status: DemoStatus, step?: LaunchStep): void {
  demo.status = status;
  if (step) demo.step = step;
}

/** Serving: routed, confirmed by nginx, and the launch done. */
export function toReady(demo: Demo): void {
  toStatus(demo, "ready", "done");
}

/** Failed, with the words for its page and the API (ending it is the caller's next step). */
export function toFailed(demo: Demo, reason: string): void {
  demo.status = "failed";
  demo.reason = reason;
}

/** Instances start, serve (and so are routed) or drain (out of the routes, finishing what they serve). */
export function toHealth(instances: Instance | Iterable<Instance>, health: InstanceHealth): void {
  for (const instance of Symbol.iterator in instances ? instances : [instances]) instance.health = health;
}
