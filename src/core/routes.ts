// Which demos are routed, and the facts the routes template needs; pure.
import type { Demo } from "./model.js";

export interface Route {
  id: string;
  host: string;
  /** host:port nginx proxies to. */
  backend: string;
  /** Whether nginx adds the time-left banner script to the demo's HTML pages. */
  banner?: boolean;
}

const HOST_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/** A demo is routed once its app answered (ready, or in its routing step) until it expires. */
export function isRoutable(demo: Demo, now: number): boolean {
  const answered = demo.status === "ready" || (demo.status === "starting" && demo.step === "routing");
  return answered && demo.expiresAt > now && demo.port > 0;
}

/** Only demos whose app answers get a route; every other host falls through to the controller. */
export function routesFor(demos: Iterable<Demo>, now: number, bannerFor: (app: string) => boolean = () => false): Route[] {
  const routes: Route[] = [];
  for (const demo of demos) {
    if (!isRoutable(demo, now)) continue;
    routes.push({ id: demo.id, host: demo.host, backend: `127.0.0.1:${demo.port}`, ...(bannerFor(demo.app) ? { banner: true } : {}) });
  }
  // A stable order keeps the file byte-identical when nothing changed, so no needless reload.
  return routes.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** Guards the template: a value that could break or inject nginx syntax is refused, not written. */
export function assertRouteIsSafe(route: Route): void {
  if (!HOST_PATTERN.test(route.host)) throw new Error(`refusing to route unsafe host ${JSON.stringify(route.host)}`);
  if (!/^(127\.0\.0\.1|\[::1\]):\d{1,5}$/.test(route.backend)) throw new Error(`refusing unsafe backend ${JSON.stringify(route.backend)}`);
}

/** Reads the generation and routed hosts back from a routes file we wrote earlier. */
export function readRoutesFile(text: string): { generation: number; hosts: Set<string> } {
  const generation = Number(/^# generation (\d+)/m.exec(text)?.[1] ?? 0);
  const hosts = new Set<string>();
  const mapBody = /map \$host \$demo_launcher_backend \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? "";
  for (const line of mapBody.split("\n")) {
    const match = /^\s+([a-z0-9.-]+)\s+(?:127\.0\.0\.1|\[::1\]):\d+;/.exec(line);
    if (match) hosts.add(match[1]!);
  }
  return { generation, hosts };
}
