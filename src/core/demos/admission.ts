// Who may launch now, who waits in line and who is refused; pure, with `now` passed in.
import type { AppSpec as AppConfig } from "../app-spec.js";
import { DomainError } from "../errors.js";
import { estimateWaitMs, type LaunchRateLimiter } from "./limits.js";
import type { Demo } from "../model.js";
import { DemoRegistry } from "../registry.js";

export interface AdmissionLimits {
  maxDemos: number;
  perClient: number;
  queueLength: number;
  launchesPerClient: number;
  launchWindow: number;
  /** Optional so older callers (tests, the bench's fixed limits) need not name it; absent = no network limit beyond a visitor's. */
  perNetwork?: { demos: number; launches: number };
  /** The memory running demos may be given together (bytes); absent = counted by number only. */
  memory?: number;
}

/** What one demo of an app is given: its containers' memory limits summed (an environment's services together). */
export function demoMemory(app: Pick<AppConfig, "memory" | "demoMemory">): number {
  return app.demoMemory ?? app.memory;
}

/** Whether a demo needing `need` bytes fits beside those in use, under the limit (none: always). */
export function memoryFits(limits: Pick<AdmissionLimits, "memory">, inUse: number, need: number): boolean {
  return limits.memory === undefined || inUse + need <= limits.memory;
}

/** A visitor key is `<network>.<visitor>`; an older key without a network is its own network. */
export function networkOf(owner: string): string {
  const dot = owner.indexOf(".");
  return dot < 0 ? owner : owner.slice(0, dot);
}

export type Admission =
  /** The visitor already has as many live demos as allowed: they get their newest back. */
  | { decision: "existing"; demo: Demo }
  | { decision: "start" }
  | { decision: "queue" };

/** The app a launch names, or a refusal that lists the allowed ones. */
export function resolveApp(asked: unknown, apps: Record<string, AppConfig>): { name: string; app: AppConfig } {
  if (typeof asked !== "string" || !Object.hasOwn(apps, asked)) throw new DomainError({ code: "unknown-app", asked, allowed: Object.keys(apps) });
  return { name: asked, app: apps[asked]! };
}

export interface AdmissionInput {
  demos: readonly Demo[];
  queued: number;
  limits: AdmissionLimits;
  owner: string | undefined;
  ttl: number;
  rate: LaunchRateLimiter;
  now: number;
  /** Memory given to running demos now, and what this launch's demo needs (with limits.memory). */
  memory?: { inUse: number; need: number };
}

/** Decides a launch; throws DomainError (rate-limited, no-room) when it must be refused. */
export function admit(input: AdmissionInput): Admission {
  const { demos, limits, owner, now } = input;
  if (owner) {
    const mine = demos.filter((demo) => demo.owner === owner && demo.kind === "visitor").sort((a, b) => b.createdAt - a.createdAt);
    if (mine.length >= limits.perClient) return { decision: "existing", demo: mine[0]! };
    const wait = input.rate.retryAfterSeconds(owner, now);
    if (wait > 0) throw new DomainError({ code: "rate-limited", launches: limits.launchesPerClient, windowMs: limits.launchWindow, retryAfterSeconds: wait });
    if (limits.perNetwork) admitNetwork(input, limits.perNetwork, networkOf(owner));
  }
  const running = demos.filter(DemoRegistry.holdsSlot).length;
  const fits = !input.memory || memoryFits(limits, input.memory.inUse, input.memory.need);
  if (running < limits.maxDemos && fits && input.queued === 0) return { decision: "start" };
  if (input.queued < limits.queueLength) return { decision: "queue" };
  const retryAfterSeconds = Math.max(1, Math.ceil(estimateWait(demos, input.queued + 1, input.ttl, now) / 1000));
  throw new DomainError({ code: "no-room", maxDemos: limits.maxDemos, lineLength: limits.queueLength, retryAfterSeconds });
}

/** A network never gets fewer than one visitor of it would: the per-network limits are at least the per-visitor ones. */
function admitNetwork(input: AdmissionInput, perNetwork: { demos: number; launches: number }, network: string): void {
  const { demos, limits, now } = input;
  const maxDemos = Math.max(perNetwork.demos, limits.perClient);
  const ours = demos.filter((demo) => demo.kind === "visitor" && demo.owner !== undefined && networkOf(demo.owner) === network);
  if (ours.length >= maxDemos) {
    const soonest = Math.min(...ours.map((demo) => (demo.status === "queued" ? now + input.ttl : demo.expiresAt)));
    throw new DomainError({ code: "network-full", demos: maxDemos, retryAfterSeconds: Math.max(1, Math.ceil((soonest - now) / 1000)) });
  }
  const maxLaunches = Math.max(perNetwork.launches, limits.launchesPerClient);
  const wait = input.rate.retryAfterSeconds(networkRateKey(network), now, maxLaunches);
  if (wait > 0) throw new DomainError({ code: "rate-limited", launches: maxLaunches, windowMs: limits.launchWindow, retryAfterSeconds: wait, network: true });
}

/** The launch-rate entry a visitor's network is counted under, beside the visitor's own. */
export function networkRateKey(network: string): string {
  return `network:${network}`;
}

/** When the visitor at `position` in line may expect a slot; idle pool members free none, so only slot holders count. */
export function estimateWait(demos: Iterable<Demo>, position: number, ttl: number, now: number): number {
  const expiries: number[] = [];
  for (const demo of demos) if (DemoRegistry.holdsSlot(demo)) expiries.push(demo.expiresAt);
  return estimateWaitMs(expiries, position, ttl, now);
}
