// Follows Docker's event stream for one namespace's containers: a death or removal is known within milliseconds,
// and the stream breaking is how a daemon restart is noticed (dockerd closes every stream when it stops).
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import type { ContainerEvents } from "../core/runtime.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** Waits before opening the stream again after it broke or could not be opened (the daemon may be on its way back). */
const REOPEN_MS = 500;

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string };
}

/** Splits the stream into its JSON objects (one per line; a chunk may hold several or part of one). */
export function eventReader(onEvent: (event: DockerEvent) => void): (chunk: Buffer | string) => void {
  let buffered = "";
  return (chunk) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) {
        try {
          onEvent(JSON.parse(line) as DockerEvent);
        } catch {
          // Not an event (a proxy's noise): the listing safety net covers whatever it was.
        }
      }
      newline = buffered.indexOf("\n");
    }
  };
}

export function watchContainerEvents(docker: Docker, namespace: string, listener: ContainerEvents): () => void {
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let retry: (() => void) | undefined;
  const handle = (event: DockerEvent) => {
    const id = event.Actor?.ID ?? event.id;
    const action = event.Action ?? event.status;
    if (event.Type !== "container" || !id) return;
    if (action === "die") listener.stopped(id, "died");
    else if (action === "destroy") listener.stopped(id, "removed");
  };
  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      const stream = await docker.getEvents({ filters: { type: ["container"], event: ["die", "destroy"], label: [`${LABEL_PREFIX}namespace=${namespace}`] } });
      if (stopped) return void (stream as unknown as { destroy?: () => void }).destroy?.();
      current = stream;
      let ended = false;
      const onEnd = () => {
        if (ended || stopped) return;
        ended = true;
        current = undefined;
        listener.lost();
        retry = systemScheduler.after(REOPEN_MS, () => void open());
      };
      stream.on("data", eventReader(handle));
      stream.on("end", onEnd);
      stream.on("close", onEnd);
      stream.on("error", onEnd);
      // From here on nothing is missed; what happened before is for a full listing to find.
      listener.opened();
    } catch {
      retry = systemScheduler.after(REOPEN_MS * 2, () => void open());
    }
  };
  void open();
  return () => {
    stopped = true;
    retry?.();
    (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
