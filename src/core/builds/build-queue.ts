// The build queue, pure: who builds next, one build per commit however many ask, a bounded line, and what a
// restart makes of builds that were running. `now` is passed in; the runner in src/builds/ does the work.
import { DomainError } from "../errors.js";

export type BuildState = "queued" | "fetching" | "building" | "starting" | "ready" | "failed" | "cancelled" | "timed-out";

export const ACTIVE_STATES: readonly BuildState[] = ["queued", "fetching", "building", "starting"];
/** States that hold one of the `concurrency` slots: a build starting its preview has given its slot back. */
const RUNNING_STATES: readonly BuildState[] = ["fetching", "building"];
/** States a restart interrupts: the build is run once more (an image already built is reused at once). */
const INTERRUPTED_STATES: readonly BuildState[] = ["fetching", "building", "starting"];

export interface Build {
  id: string;
  source: string;
  /** The branch asked for (its newest commit is built), or undefined when a commit was asked for. */
  branch?: string;
  /** The full commit: known at once when a commit was asked for, after the fetch for a branch. */
  commit?: string;
  state: BuildState;
  reason?: string;
  /** What is happening now that the state alone does not say (a fetch being retried, a second try). */
  note?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Starts so far; a build interrupted by a restart is started once more, not for ever. */
  attempts: number;
  /** The image it produced (or found already built). */
  image?: string;
  /** A host of its own (a pull request's `<source>-pr-<n>`) instead of its branch's or commit's. */
  host?: string;
  /** Orders builds of one host: an older version never replaces a newer one (a pull request's updated_at). */
  version?: number;
  /** Built from a fork nobody vouched for: its preview gets none of the configured env. */
  untrusted?: boolean;
  /** Where people read about it (a pull request's page): the preview's page links there. */
  link?: string;
}

export interface BuildRequest {
  source: string;
  branch?: string;
  commit?: string;
  host?: string;
  version?: number;
  untrusted?: boolean;
  link?: string;
}

export interface BuildQueueLimits {
  concurrency: number;
  queueLength: number;
  /** A typical build, for the Retry-After of a full line. */
  typicalBuildMs?: number;
}

const MAX_ATTEMPTS = 2;
const MAX_FINISHED = 500;

export class BuildQueue {
  private readonly builds = new Map<string, Build>();
  private readonly forgotten: string[] = [];

  constructor(private readonly limits: BuildQueueLimits, private readonly newId: () => string) {}

  get(id: string): Build | undefined {
    return this.builds.get(id);
  }

  all(): Build[] {
    return [...this.builds.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  isActive(build: Build): boolean {
    return ACTIVE_STATES.includes(build.state);
  }

  /**
   * The build for this request: an active one that builds the same thing (the same commit, or the same branch
   * not yet fetched) is shared; otherwise a new one waits in line. Throws `build-queue-full` past the line.
   */
  request(request: BuildRequest, now: number): { build: Build; created: boolean } {
    if (request.host) {
      const forHost = this.forHost(request, now);
      if (forHost) return forHost;
    }
    const same = this.all().find(
      (build) =>
        this.isActive(build) &&
        build.source === request.source &&
        build.host === request.host &&
        ((request.commit !== undefined && build.commit !== undefined && build.commit.startsWith(request.commit)) || (request.branch !== undefined && build.branch === request.branch)),
    );
    if (same) return { build: same, created: false };
    const queued = this.all().filter((build) => build.state === "queued").length;
    if (queued >= this.limits.queueLength) {
      const typical = this.limits.typicalBuildMs ?? 60_000;
      const retryAfterSeconds = Math.max(1, Math.ceil(((queued / Math.max(1, this.limits.concurrency)) * typical) / 1000));
      throw new DomainError({ code: "build-queue-full", queueLength: this.limits.queueLength, retryAfterSeconds });
    }
    const build: Build = {
      id: this.newId(),
      source: request.source,
      ...(request.branch ? { branch: request.branch } : {}),
      ...(request.commit ? { commit: request.commit } : {}),
      ...(request.host ? { host: request.host, version: request.version ?? 0 } : {}),
      ...(request.untrusted ? { untrusted: true } : {}),
      ...(request.link ? { link: request.link } : {}),
      state: "queued",
      createdAt: now,
      attempts: 0,
    };
    this.builds.set(build.id, build);
    return { build, created: true };
  }

  /** The queued builds to start now, first come first served, within the concurrency; one at a time per host. */
  startable(): Build[] {
    const runningBuilds = this.all().filter((build) => RUNNING_STATES.includes(build.state));
    const busyHosts = new Set(runningBuilds.flatMap((build) => (build.host ? [build.host] : [])));
    const room = Math.max(0, this.limits.concurrency - runningBuilds.length);
    return this.all()
      .filter((build) => build.state === "queued" && !(build.host && busyHosts.has(build.host)))
      .slice(0, room);
  }

  /**
   * A build for a host of its own, newest wins: an older version than the host's newest is answered with that
   * newest build; the same commit shares; a queued build takes the newer commit in its place. So a host has
   * at most one running and one queued build, and the last to run is the newest.
   */
  private forHost(request: BuildRequest, now: number): { build: Build; created: boolean } | undefined {
    const builds = this.all().filter((build) => build.host === request.host);
    const version = request.version ?? 0;
    const newest = builds.reduce<Build | undefined>((best, build) => (!best || (build.version ?? 0) >= (best.version ?? 0) ? build : best), undefined);
    if (newest && (newest.version ?? 0) > version) return { build: newest, created: false };
    const active = builds.filter((build) => this.isActive(build));
    const same = active.find((build) => build.commit === request.commit);
    if (same) return { build: same, created: false };
    const queued = active.find((build) => build.state === "queued");
    if (queued) {
      Object.assign(queued, { commit: request.commit, version, createdAt: Math.min(queued.createdAt, now) });
      if (request.untrusted) queued.untrusted = true;
      else delete queued.untrusted;
      return { build: queued, created: false };
    }
    return undefined;
  }

  /** Moves a build on; a finished state stamps the time, and the oldest finished builds are forgotten. */
  advance(id: string, state: BuildState, now: number, extra: Partial<Pick<Build, "commit" | "reason" | "image" | "note">> = {}): Build | undefined {
    const build = this.builds.get(id);
    if (!build || !this.isActive(build)) return undefined;
    build.state = state;
    if (!("note" in extra)) delete build.note;
    Object.assign(build, extra);
    if (state === "fetching") {
      build.startedAt = now;
      build.attempts += 1;
    }
    if (!this.isActive(build)) {
      build.finishedAt = now;
      this.forgetOldest();
    }
    return build;
  }

  /** Puts a running build back in line (Docker went away under it): it is started once more, not for ever. */
  requeue(id: string, note: string): boolean {
    const build = this.builds.get(id);
    if (!build || !RUNNING_STATES.includes(build.state) || build.attempts >= MAX_ATTEMPTS) return false;
    build.state = "queued";
    build.note = note;
    return true;
  }

  /** The newest build serving this preview host label (each build knows its labels once its commit is known). */
  latestFor(label: string, labelsOf: (build: Build) => string[]): Build | undefined {
    return this.all()
      .reverse()
      .find((build) => labelsOf(build).includes(label));
  }

  /** An active build that builds this commit already (another request that resolved to it). */
  activeFor(source: string, commit: string, except: string): Build | undefined {
    return this.all().find((build) => build.id !== except && this.isActive(build) && build.source === source && build.commit === commit && build.state !== "queued");
  }

  /**
   * What the last run saved: queued builds wait again; one that was running is started once more (its
   * half-built image was never tagged); one that was already interrupted before fails.
   */
  restore(saved: Build[], now: number): void {
    for (const build of saved) {
      const copy = { ...build };
      if (INTERRUPTED_STATES.includes(copy.state)) {
        if (copy.attempts >= MAX_ATTEMPTS) Object.assign(copy, { state: "failed", reason: "interrupted twice by a restart of the controller", finishedAt: now });
        else copy.state = "queued";
      }
      this.builds.set(copy.id, copy);
    }
  }

  /** Ids of builds forgotten since the last call (their log files can go). */
  takeForgotten(): string[] {
    return this.forgotten.splice(0);
  }

  private forgetOldest(): void {
    const finished = this.all().filter((build) => !this.isActive(build));
    for (const build of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) {
      this.builds.delete(build.id);
      this.forgotten.push(build.id);
    }
  }
}
