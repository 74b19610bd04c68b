// Which hosts are routed to which endpoints, built from demos' healthy instances; pure.
import { healthyInstances, type Demo } from "../model.js";
import { furtherHost } from "./naming.js";

export interface Route {
  id: string;
  host: string;
  /** host:port endpoints nginx proxies to: one is a plain map entry, several get an upstream block. */
  backends: string[];
  /** Whether nginx adds the time-left banner script to the demo's HTML pages. */
  banner?: boolean;
  /** Whether nginx logs its requests for the controller (previews: idle stop and `keep` count them). */
  watched?: boolean;
  /** A gated host (access other than public): nginx asks the controller first; the value keys its cached answers. */
  gate?: string;
}

const HOST_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const ENDPOINT_PATTERN = /^((\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]+\]):\d{1,5}$/;
const ID_PATTERN = /^[a-z0-9-]{1,100}$/;

/**
 * The gate of a demo routed before its app answers (public otherwise): nginx asks the controller, which says yes
 * only once the app answered (`servesNow`). A letter no access mode starts with, so no policy's gate is the same.
 */
export const STARTING_GATE = "w0";

/** Whether a routed demo's requests may reach its app now: ready, or answered and on its way to ready. */
export function servesNow(demo: Demo): boolean {
  return demo.status === "ready" || (demo.status === "starting" && demo.step === "routing");
}

/** A demo is routed once its app answered (ready, or in its routing step) until it expires. */
export function isRoutable(demo: Demo, now: number): boolean {
  const answered = demo.status === "ready" || (demo.status === "starting" && (demo.step === "routing" || earlyBackend(demo) !== undefined));
  return answered && demo.expiresAt > now;
}

/** The starting instance of a demo routed early (its only one), once it has an endpoint. */
function earlyBackend(demo: Demo): string | undefined {
  if (!demo.routeEarly || demo.status !== "starting" || demo.instances.length !== 1) return undefined;
  return demo.instances[0]!.endpoint;
}

/** Only demos whose app answers get a route; every other host falls through to the controller. */
export function routesFor(demos: Iterable<Demo>, now: number, bannerFor: (demo: Demo) => boolean = () => false, watchedFor: (demo: Demo) => boolean = () => false, gateOf: (demo: Demo) => string | undefined = () => undefined, hostsOf: (demo: Demo) => readonly string[] = () => []): Route[] {
  const routes: Route[] = [];
  for (const demo of demos) {
    if (!isRoutable(demo, now)) continue;
    const healthy = healthyInstances(demo).map((instance) => instance.endpoint!);
    const early = earlyBackend(demo);
    const throughGate = healthy.length === 0 && early !== undefined;
    const backends = (throughGate ? [early] : healthy).sort();
    if (backends.length === 0) continue;
    // A gated policy's check also asks whether it serves yet; a public demo gets the starting gate until it is healthy.
    const gate = gateOf(demo) ?? (throughGate ? STARTING_GATE : undefined);
    const gated = gate !== undefined ? { gate } : {};
    routes.push({ id: demo.id, host: demo.host, backends, ...(bannerFor(demo) ? { banner: true } : {}), ...(watchedFor(demo) ? { watched: true } : {}), ...gated });
    // Names of its own beside its host (a shared demo's `hosts`: shop.example.org), to the same instances.
    hostsOf(demo).forEach((host, index) => routes.push({ id: `${demo.id}-host${index + 1}`, host, backends, ...(watchedFor(demo) ? { watched: true } : {}), ...gated }));
    // An environment's further routed services, each at `<name>-<demo host>` (api-k3x9q2ab.demo.example.org).
    const serving = healthyInstances(demo);
    for (const name of new Set(serving.flatMap((instance) => Object.keys(instance.routes ?? {})))) {
      const further = serving.flatMap((instance) => (instance.routes?.[name] ? [instance.routes[name]] : [])).sort();
      routes.push({ id: `${demo.id}-${name}`, host: furtherHost(name, demo.host), backends: further, ...(watchedFor(demo) ? { watched: true } : {}), ...gated });
    }
  }
  // A stable order keeps the file byte-identical when nothing changed, so no needless reload.
  return routes.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * The routes the engine publishes for its demos, given each demo's app: the time-left banner where the app wants
 * it (never on a shared demo: many visitors; preview sources say no), idle tracking for previews. `render` prints
 * the same routes from what Docker runs, so the two files cannot differ.
 */
export function demoRoutes(demos: Iterable<Demo>, now: number, specFor: (demo: Demo) => { banner: boolean } | undefined, gateOf?: (demo: Demo) => string | undefined, hostsOf?: (demo: Demo) => readonly string[]): Route[] {
  return routesFor(demos, now, (demo) => demo.kind !== "shared" && (specFor(demo)?.banner ?? true), (demo) => demo.kind === "preview", gateOf, hostsOf);
}

/** Guards the template: a value that could break or inject nginx syntax is refused, not written. */
export function assertRouteIsSafe(route: Route): void {
  if (!HOST_PATTERN.test(route.host)) throw new Error(`refusing to route unsafe host ${JSON.stringify(route.host)}`);
  if (!ID_PATTERN.test(route.id)) throw new Error(`refusing unsafe route id ${JSON.stringify(route.id)}`);
  if (route.backends.length === 0) throw new Error(`refusing a route without backends for ${route.host}`);
  for (const backend of route.backends) if (!ENDPOINT_PATTERN.test(backend)) throw new Error(`refusing unsafe backend ${JSON.stringify(backend)}`);
  if (route.gate !== undefined && !/^[a-z][0-9]{1,12}$/.test(route.gate)) throw new Error(`refusing unsafe gate ${JSON.stringify(route.gate)}`);
}

/** What nginx was last told: the generation and each routed host's endpoints (for adoption at start). */
export interface PublishedRoutes {
  generation: number;
  backends: Map<string, string[]>;
}
