// Which demos end on this pass of the reaper, and why; pure, with `now` passed in.
import type { Demo } from "../model.js";
import type { EndedDemo } from "../runtime.js";

export interface Ending {
  demo: Demo;
  status: EndedDemo["status"];
  reason: string;
}

/** Running demos past their time box, and queued visitors whose page stopped asking for abandonMs. */
export function planExpiry(demos: Iterable<Demo>, now: number, abandonMs: number): Ending[] {
  const endings: Ending[] = [];
  for (const demo of demos) {
    if (demo.status === "queued") {
      if (now - (demo.lastSeenAt ?? now) > abandonMs) endings.push({ demo, status: "stopped", reason: "you left the waiting line" });
    } else if (demo.hardEndAt !== undefined && demo.hardEndAt <= now) endings.push({ demo, status: "expired", reason: "it reached its hard end (the ttl of its source since it was first served)" });
    else if (demo.expiresAt <= now) endings.push({ demo, status: "expired", reason: demo.kind === "preview" ? "it was not used for its source's keep" : "its time box ended" });
  }
  return endings;
}
