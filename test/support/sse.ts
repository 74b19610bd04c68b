// Server-sent events read over a real socket as a browser's EventSource would: blocks split into events, in order.
import http from "node:http";

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Reads the events at `path` until `until` says stop (or the server ends the stream); answers them in order.
 * `seen` is called after each event, so a test can act at a point of the stream (a build let go after its first lines).
 */
export function readEvents(port: number, host: string, path: string, headers: Record<string, string>, until: (events: SseEvent[]) => boolean, seen: (events: SseEvent[]) => void = () => {}): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const request = http.get({ host: "127.0.0.1", port, path, headers: { host, accept: "text/event-stream", ...headers } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`event stream answered ${response.statusCode}`));
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(":") || block.startsWith("retry:")) continue;
          const event: SseEvent = { event: "message", data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) event.id = line.slice(4);
            else if (line.startsWith("event: ")) event.event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          event.data = data.join("\n");
          events.push(event);
          if (until(events)) {
            request.destroy();
            return resolve(events);
          }
          seen(events);
        }
      });
      response.on("end", () => resolve(events));
    });
    request.on("error", (error) => (events.length ? resolve(events) : reject(error)));
  });
}

/** The text of the `log` events, one line each. */
export function logText(events: SseEvent[]): string {
  return events.filter((event) => event.event === "log").map((event) => event.data).join("\n");
}
