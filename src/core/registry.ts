// The registry of demos in memory: live demos, the line, leases, ended demos and what the state file keeps.
import { JobBook, type Job } from "./state/jobs.js";
import type { Demo, LaunchStep, ReplacementState } from "./model.js";
import type { AcceptedLaunch, EndedDemo, EngineState, Lease } from "./runtime.js";
import { Transitions } from "./transitions.js";

const MAX_ENDED = 10_000;

export class DemoRegistry {
  private readonly demos = new Map<string, Demo>();
  /** Every change of a live demo's status, step, replacement, wanted image or instances, and every add and remove. */
  readonly transitions = new Transitions();
  private readonly ended = new Map<string, EndedDemo>();
  /** Ids of queued demos, first in line first. */
  readonly queue: string[] = [];
  /** Owners and expiries that labels written at creation cannot know (claimed pool members, extensions). */
  readonly leases = new Map<string, Lease>();

  /** What shared demos keep in the state file (set by the engine). */
  sharedState: () => EngineState["shared"] = () => undefined;
  /** Rewind jobs, finished and not. */
  readonly jobs = new JobBook();
  /** Jobs the last run left unfinished, until the engine has adopted their demos and resumes them. */
  interruptedJobs: Job[] = [];
  /** Previews the last run had put to sleep (their containers are stopped on purpose). */
  readonly savedAsleep = new Set<string>();
  /** Previews the last run was seeding (or about to): an adopted launch of one of them seeds it. */
  readonly savedUnseeded = new Set<string>();
  /** Replacement outcomes the last run saved, until their demos are adopted. */
  private readonly savedReplacements = new Map<string, ReplacementState>();

  constructor(private readonly endedRetentionMs: number) {}

  get(id: string): Demo | undefined {
    return this.demos.get(id);
  }

  has(id: string): boolean {
    return this.demos.has(id);
  }

  /** True while this exact record is the live one (a stopped and relaunched id is another record). */
  isLive(demo: Demo): boolean {
    return this.demos.get(demo.id) === demo;
  }

  add(demo: Demo): void {
    this.transitions.observe(demo);
    this.demos.set(demo.id, demo);
    this.transitions.notify();
  }

  all(): Demo[] {
    return [...this.demos.values()];
  }

  /**
   * Whether a live demo is starting (at one of these steps, when given), without copying the registry: the reaper
   * asks every pass whether this is a quiet moment.
   */
  anyStarting(steps?: readonly LaunchStep[]): boolean {
    for (const demo of this.demos.values()) if (demo.status === "starting" && (!steps || steps.includes(demo.step))) return true;
    return false;
  }

  values(): IterableIterator<Demo> {
    return this.demos.values();
  }

  /**
   * Keeps what a demo's labels cannot say, since labels cannot change after creation: its expiry as it is now, the
   * visitor that claimed it, a preview's hard end. Saved with the state; a restart's adoption reads it back.
   */
  keepLease(demo: Demo): void {
    this.leases.set(demo.id, { id: demo.id, expiresAt: demo.expiresAt, ...(demo.owner ? { client: demo.owner } : {}), ...(demo.hardEndAt !== undefined ? { hardEndAt: demo.hardEndAt } : {}) });
  }

  /** Forgets a live demo and its place in line and lease; returns false when it was not the live record. */
  remove(demo: Demo): boolean {
    if (!this.isLive(demo)) return false;
    this.demos.delete(demo.id);
    const queued = this.queue.indexOf(demo.id);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.leases.delete(demo.id);
    this.transitions.notify();
    return true;
  }

  getEnded(id: string): EndedDemo | undefined {
    return this.ended.get(id);
  }

  isTaken(id: string): boolean {
    return this.demos.has(id) || this.ended.has(id);
  }

  /** Remembers how a demo ended, so its host says "expired" rather than "unknown"; old entries go. */
  recordEnded(entry: EndedDemo, now: number): void {
    this.ended.delete(entry.id);
    this.ended.set(entry.id, entry);
    const cutoff = now - this.endedRetentionMs;
    for (const [id, old] of this.ended) {
      if (this.ended.size <= MAX_ENDED && old.endedAt >= cutoff) break;
      this.ended.delete(id);
    }
  }

  /** A demo holds a slot while starting or ready; not while waiting in line or idle in the warm pool. */
  static holdsSlot(demo: Demo): boolean {
    return demo.kind === "visitor" && demo.status !== "queued" && !demo.pooled;
  }

  runningCount(): number {
    let count = 0;
    for (const demo of this.demos.values()) if (DemoRegistry.holdsSlot(demo)) count += 1;
    return count;
  }

  /** Loads what the last run saved (before containers are adopted). */
  restore(state: EngineState, now: number): void {
    for (const entry of state.ended) this.recordEnded(entry, now);
    for (const lease of state.leases ?? []) this.leases.set(lease.id, lease);
    for (const { id, ...replacement } of state.replacements ?? []) this.savedReplacements.set(id, replacement);
    for (const id of state.asleep ?? []) this.savedAsleep.add(id);
    for (const id of state.unseeded ?? []) this.savedUnseeded.add(id);
    this.interruptedJobs = this.jobs.restore(state.jobs ?? []);
  }

  /** The saved outcome of a demo's last replacement, once (at its adoption). */
  getReplacement(id: string): ReplacementState | undefined {
    const saved = this.savedReplacements.get(id);
    this.savedReplacements.delete(id);
    return saved;
  }

  /** What the state file keeps; taken when the write runs, so a burst of changes costs one write. */
  snapshot(): EngineState {
    const replacements = this.all().flatMap((demo) => (demo.replacement ? [{ id: demo.id, ...demo.replacement }] : []));
    const asleep = this.all().flatMap((demo) => (demo.status === "asleep" ? [demo.id] : []));
    const unseeded = this.all().flatMap((demo) => (demo.unseeded ? [demo.id] : []));
    return {
      ended: [...this.ended.values()],
      queued: this.queue.flatMap((id) => {
        const demo = this.demos.get(id);
        return demo ? [acceptedLaunch(demo)] : [];
      }),
      // Launches whose container Docker may not have yet: without this, a kill in that moment would lose them.
      starting: this.all()
        .filter((demo) => demo.kind === "visitor" && demo.status === "starting" && !demo.pooled)
        .map(acceptedLaunch),
      leases: [...this.leases.values()],
      ...(replacements.length ? { replacements } : {}),
      ...(asleep.length ? { asleep } : {}),
      ...(unseeded.length ? { unseeded } : {}),
      ...(this.jobs.all().length ? { jobs: this.jobs.all() } : {}),
      ...(this.sharedState()?.length ? { shared: this.sharedState()! } : {}),
    };
  }
}

/** How the state file keeps a launch it accepted (waiting in line, or not yet in Docker). */
export function acceptedLaunch(demo: Demo): AcceptedLaunch {
  return { id: demo.id, app: demo.app, queuedAt: demo.createdAt, ...(demo.owner ? { client: demo.owner } : {}) };
}
