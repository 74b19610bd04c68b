// Runs the build queue: fetch the mirror (retried with back-off), resolve the ref, build (or reuse) the commit's
// image, start its preview, with a log per build, a time limit, cancellation, and the queue kept in a file.
import { appendFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { BuildQueue, type Build } from "../core/builds/build-queue.js";
import { describeError, DomainError } from "../core/errors.js";
import type { Logger } from "../core/app-spec.js";
import type { Scheduler } from "../core/scheduler.js";
import { Transitions } from "../core/transitions.js";
import { previewLabels } from "../core/previews/preview-names.js";
import type { PreviewConfig } from "../config/schema.js";
import { readIfExists, serialWriter } from "../files/atomic.js";
import { checkBranchName, checkCommitId, type GitMirror } from "./git.js";
import { ImageBuildError, type ImageBuildRequest } from "./image-builder.js";
import { stepLimits } from "./step-limits.js";
import { Mirrors } from "./mirrors.js";
import { BuildFailure, commitToBuild, Superseded } from "./commit-to-build.js";
import { redactSecrets } from "./redact.js";
import { composeSourceOf, type ComposeSource } from "./environment-build.js";
import { dockerGoesAway, dockerWentAway, theCommitsFault, untilDockerAnswers } from "./docker-faults.js";


/** What builds and removes preview images: Docker's builder (`ImageBuilder`); the http tier passes one of its own. */
export interface PreviewImages {
  /** Builds (or reuses) the commit's image, every line into `request.logFile`; resolves to its tag. */
  build(request: ImageBuildRequest, mirror: GitMirror): Promise<string>;
  /** A Compose source's commit: each service built (or reused), the routed one's image tagged as the commit's; resolves to that tag. */
  buildEnvironment?(request: Omit<ImageBuildRequest, "dockerfile" | "context" | "service">, compose: ComposeSource, mirror: GitMirror): Promise<string>;
  remove(images: string[], logger: { warn(message: string): void }): Promise<string[]>;
}

export interface BuildRunnerOptions {
  stateDir: string;
  previews: Record<string, PreviewConfig>;
  limits: { concurrency: number; timeout: number; queueLength: number; memory?: number; cpus?: number; pids?: number; disk?: number; minFreeDisk?: number; network?: string };
  /** Never written to a build log (tokens, webhook secrets); passwords in URLs are masked anyway. */
  secrets?: readonly string[];
  /** Asked whether the daemon answers, to tell a Docker restart from a commit that fails. */
  docker: Pick<Docker, "ping">;
  images: PreviewImages;
  logger: Logger;
  /** Time for the time limit, Docker waits and retries. */
  scheduler: Scheduler;
  newId: () => string;
  /**
   * Serves a build's image at its preview hosts; resolves once they answer, throws (with words for the page)
   * when the preview could not start. Without it a build is ready as soon as its image is.
   */
  serve?: (build: Build) => Promise<void>;
  /** The first pause before a failed fetch is tried again (it doubles each time). */
  fetchRetryMs?: number;
}

export class BuildRunner {
  readonly queue: BuildQueue;
  readonly mirrors: Mirrors;
  private readonly running = new Map<string, RunningBuild>();
  private readonly file: string;
  private closed = false;
  private readonly listeners: Array<(build: Build) => void> = [];
  private readonly notified = new Map<string, string>();
  private readonly writeState: (content: () => string) => Promise<void>;
  /** A build ended or was cancelled: idle() waits on this, not on a poll. */
  private readonly changes = new Transitions();

  constructor(private readonly options: BuildRunnerOptions) {
    this.queue = new BuildQueue(options.limits, options.newId);
    this.mirrors = new Mirrors(options.stateDir, options.previews, () => options.scheduler.now());
    this.file = path.join(options.stateDir, "builds.json");
    this.writeState = serialWriter(this.file, (error) => options.logger.error(`saving ${this.file} failed: ${describeError(error)}`));
  }

  get sources(): Record<string, PreviewConfig> {
    return this.options.previews;
  }

  logFile(id: string): string {
    return path.join(this.options.stateDir, "builds", `${id}.log`);
  }

  /** The newest build for a preview host label. */
  latestFor(label: string): Build | undefined {
    return this.queue.latestFor(label, previewLabels);
  }

  /** Loads what the last run left (a running build is started once more) and starts what can start. */
  async start(): Promise<void> {
    const text = await readIfExists(this.file);
    if (text) {
      try {
        this.queue.restore((JSON.parse(text) as { builds: Build[] }).builds ?? [], this.options.scheduler.now());
      } catch (error) {
        this.options.logger.error(`the builds file ${this.file} is not readable (${describeError(error)}); starting without it`);
      }
    }
    await this.save();
    this.pump();
  }

  /** Checks the source and ref (git's own rules), then shares or queues the build. */
  async request(source: unknown, ref: { branch?: unknown; commit?: unknown }, own: { host: string; version: number; untrusted: boolean; link?: string } | undefined = undefined): Promise<{ build: Build; created: boolean }> {
    const sources = Object.keys(this.options.previews);
    if (typeof source !== "string" || !Object.hasOwn(this.options.previews, source)) throw new DomainError({ code: "unknown-source", asked: source, allowed: sources });
    const request = { ...(ref.commit !== undefined ? { source, commit: checkCommitId(ref.commit) } : { source, branch: await checkBranchName(ref.branch) }), ...(own ? { host: own.host, version: own.version, untrusted: own.untrusted, ...(own.link ? { link: own.link } : {}) } : {}) };
    const result = this.queue.request(request, this.options.scheduler.now());
    if (result.created) {
      await this.save();
      this.pump();
    }
    return result;
  }

  /** Stops a queued or running build; true when there was one to stop. */
  async cancel(id: string): Promise<boolean> {
    const build = this.queue.get(id);
    if (!build || !this.queue.isActive(build)) return false;
    const running = this.running.get(id);
    if (running) {
      running.why = "cancelled";
      running.abort.abort();
      await running.done;
    } else {
      this.queue.advance(id, "cancelled", this.options.scheduler.now(), { reason: "it was cancelled" });
      this.changes.notify();
      await this.save();
    }
    return true;
  }

  /**
   * Stops the builds running now without giving them an outcome: the file still says they were running, so the
   * next start builds them again (a half-built image is never tagged). Queued ones wait in the file.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.running.values()) {
      entry.why = "shutdown";
      entry.abort.abort();
    }
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
  }

  /** True while a build is queued or running. */
  get busy(): boolean {
    return this.queue.all().some((build) => this.queue.isActive(build));
  }

  /** Waits until no build is queued or running (tests). */
  async idle(): Promise<void> {
    await this.until(() => (this.busy ? undefined : true));
  }

  /** Answers what `check` answers once it is not undefined (undefined when `signal` aborts); asked again after every change of a build. */
  until<T>(check: () => T | undefined, signal?: AbortSignal): Promise<T | undefined> {
    return this.changes.until(check, signal);
  }

  private pump(): void {
    if (this.closed) return;
    for (const build of this.queue.startable()) {
      const abort = new AbortController();
      const entry: RunningBuild = { abort, done: Promise.resolve() };
      this.queue.advance(build.id, "fetching", this.options.scheduler.now());
      entry.done = this.run(build, entry).finally(() => {
        this.running.delete(build.id);
        this.pump();
        this.changes.notify();
      });
      this.running.set(build.id, entry);
    }
  }

  private async run(build: Build, entry: RunningBuild): Promise<void> {
    const preview = this.options.previews[build.source];
    const now = () => this.options.scheduler.now();
    const cancelTimer = this.options.scheduler.after(this.options.limits.timeout, () => {
      entry.why = "timed-out";
      entry.abort.abort();
    });
    try {
      if (!preview) throw new BuildFailure(`the source ${build.source} is no longer configured`);
      await this.save();
      const commit = await commitToBuild(build, entry.abort.signal, {
        mirrors: this.mirrors,
        scheduler: this.options.scheduler,
        firstRetryMs: this.options.fetchRetryMs ?? 2000,
        waiting: async (note) => {
          this.queue.advance(build.id, "fetching", this.options.scheduler.now(), { note });
          await this.log(build, `[demo-launcher] ${note}`);
          await this.save();
        },
        superseded: () => this.queue.all().some((other) => other.host === build.host && (other.version ?? 0) > (build.version ?? 0)),
      });
      if (entry.abort.signal.aborted) throw new BuildFailure("stopped");
      // Another build (another branch at the same commit) is building this very commit: its image is waited for.
      const twin = this.queue.activeFor(build.source, commit, build.id);
      const twinRun = twin && (twin.state === "fetching" || twin.state === "building") ? this.running.get(twin.id) : undefined;
      if (twin && twinRun) {
        await this.log(build, `[demo-launcher] build ${twin.id} is building ${commit.slice(0, 12)} already; its image is used`);
        await twinRun.done;
      }
      this.queue.advance(build.id, "building", now(), { commit });
      await this.save();
      const { mirror } = this.mirrors.get(build.source);
      await untilDockerAnswers(this.options.docker, this.options.scheduler, entry.abort.signal, async (waiting) => {
        this.queue.advance(build.id, "building", this.options.scheduler.now(), waiting ? { note: "waiting for Docker to answer" } : {});
        await this.save();
      });
      let image: string;
      try {
        const request = { source: build.source, commit, ...(build.branch ? { ref: build.branch } : {}), logFile: this.logFile(build.id), signal: entry.abort.signal, ...stepLimits(this.options.limits, this.options.secrets ?? []) };
        const compose = composeSourceOf(preview);
        if (compose) {
          if (!this.options.images.buildEnvironment) throw new BuildFailure("this controller cannot build Compose previews");
          image = await this.options.images.buildEnvironment(request, compose, mirror);
        } else image = await this.options.images.build({ ...request, dockerfile: preview.dockerfile ?? "Dockerfile", context: preview.context ?? "." }, mirror);
      } catch (error) {
        // Docker going away is not the commit's fault: the build is tried once more when Docker is back.
        if (!entry.why && (dockerWentAway(error) || (!theCommitsFault(error) && (await dockerGoesAway(this.options.docker, this.options.scheduler))))) {
          if (this.queue.requeue(build.id, "Docker stopped during the build; it is tried once more")) {
            await this.log(build, `[demo-launcher] Docker stopped during the build (${describeError(error)}); trying once more`);
            return;
          }
          throw new BuildFailure(`Docker stopped during the build again (${describeError(error)}); it was tried twice`);
        }
        throw error;
      }
      this.queue.advance(build.id, "starting", now(), { image });
      await this.save();
      // The slot is free while the preview starts: the next build need not wait for an app to answer.
      this.pump();
      if (this.options.serve) {
        try {
          await this.options.serve(build);
        } catch (error) {
          throw new BuildFailure(`the preview did not start: ${describeError(error)}`);
        }
      }
      this.queue.advance(build.id, "ready", now());
    } catch (error) {
      if (entry.why === "shutdown") return;
      if (error instanceof Superseded) entry.why = "cancelled";
      const state = entry.why ?? "failed";
      let reason =
        error instanceof Superseded ? "a newer commit of its pull request replaced it before it was built" : entry.why === "cancelled" ? "it was cancelled" : entry.why === "timed-out" ? `it took longer than ${Math.round(this.options.limits.timeout / 1000)} s` : error instanceof BuildFailure || error instanceof ImageBuildError ? error.message : `the build could not run: ${describeError(error)}`;
      // A fetch error may quote the repository's URL, password and all: the page and the API get it masked.
      reason = redactSecrets(reason, this.options.secrets ?? []);
      this.queue.advance(build.id, state, now(), { reason });
      await this.log(build, `[demo-launcher] ${state}: ${reason}`);
      this.options.logger.warn(`build ${build.id} (${build.source} ${build.branch ?? build.commit}) ${state}: ${reason}`);
    } finally {
      cancelTimer();
      await this.save();
    }
  }

  /** Removes preview images (ours only: `demo-launcher-preview/…`); answers the ones removed. */
  removeImages(images: string[]): Promise<string[]> {
    return this.options.images.remove(images, this.options.logger);
  }


  private async log(build: Build, text: string): Promise<void> {
    const file = this.logFile(build.id);
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, `${redactSecrets(text, this.options.secrets ?? [])}\n`).catch(() => {});
  }

  /** Calls `listener` with each build whose state changed (after it is on disk). */
  onChange(listener: (build: Build) => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    for (const build of this.queue.all()) {
      const seen = `${build.state} ${build.commit ?? ""}`;
      if (this.notified.get(build.id) === seen) continue;
      this.notified.set(build.id, seen);
      // Listeners catch their own errors: a build never fails because of one.
      for (const listener of this.listeners) listener(build);
    }
  }

  private async save(): Promise<void> {
    // A build the queue no longer remembers takes its log with it.
    for (const id of this.queue.takeForgotten()) await rm(this.logFile(id), { force: true }).catch(() => {});
    // A failed save was logged; the next one writes the whole state again.
    await this.writeState(() => `${JSON.stringify({ version: 1, builds: this.queue.all() })}\n`).catch(() => {});
    this.notify();
    this.changes.notify();
  }
}

interface RunningBuild {
  abort: AbortController;
  /** Why it was stopped: its outcome, or a shutdown (no outcome: the next start builds it again). */
  why?: "cancelled" | "timed-out" | "shutdown";
  done: Promise<void>;
}
