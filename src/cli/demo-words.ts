// How the CLI words a demo: its time left, or for a shared demo its next reset.
import type { DemoView } from "../api/views.js";
import { formatDuration } from "../core/duration.js";

/** What is left of a demo's time box; a shared demo has none, and says when it is next reset. */
export function timeLeft(demo: DemoView): string {
  if (demo.secondsLeft === undefined) return demo.nextResetAt ? `shared, next reset ${demo.nextResetAt.slice(0, 16).replace("T", " ")} UTC` : "shared, no time box";
  return `${formatDuration(demo.secondsLeft * 1000)} left`;
}
