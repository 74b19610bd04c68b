// Notices when the connection to dockerd breaks (a daemon restart stops containers even when it is too quick for a periodic check to see).
import type Docker from "dockerode";
import { systemScheduler } from "../clock/system-scheduler.js";

/**
 * Holds an event stream open only to notice when it breaks: dockerd closes it when it stops, so even a
 * restart quicker than the reaper's Docker sync is seen. Daemon events are rare, so the stream stays quiet.
 */
export function watchDaemonConnection(docker: Docker, lost: () => void): () => void {
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let retry: (() => void) | undefined;
  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      const stream = await docker.getEvents({ filters: { type: ["daemon"] } });
      if (stopped) return void (stream as unknown as { destroy?: () => void }).destroy?.();
      current = stream;
      let ended = false;
      const onEnd = () => {
        if (ended || stopped) return;
        ended = true;
        current = undefined;
        lost();
        retry = systemScheduler.after(500, () => void open());
      };
      stream.on("end", onEnd);
      stream.on("close", onEnd);
      stream.on("error", onEnd);
      stream.resume();
    } catch {
      retry = systemScheduler.after(1000, () => void open());
    }
  };
  void open();
  return () => {
    stopped = true;
    retry?.();
    (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
