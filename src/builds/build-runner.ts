// Runs the build queue: fetch the mirror, resolve the ref, build (or reuse) the commit's image, with a log per
// build, a time limit, cancellation, and the queue kept in a file so a restart loses no build.
import path from "node:path";
import type Docker from "dockerode";
import { BuildQueue, type Build } from "../core/build-queue.js";
import { describeError, DomainError } from "../core/errors.js";
import type { Logger } from "../core/app-spec.js";
import type { Clock } from "../core/runtime.js";
import { singleFlight } from "../core/single-flight.js";
import type { PreviewConfig } from "../config/schema.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";
import { checkBranchName, checkCommitId, GitError, GitMirror } from "./git.js";
import { ImageBuildError, ImageBuilder } from "./image-builder.js";

export interface BuildRunnerOptions {
  stateDir: string;
  previews: Record<string, PreviewConfig>;
  limits: { concurrency: number; timeout: number; queueLength: number };
  docker: Docker;
  logger: Logger;
  clock: Clock;
  newId: () => string;
  /** Called when a build has its image (built or reused): the controller serves it at the preview's hosts. */
  onReady?: (build: Build) => void;
}

export class BuildRunner {
  readonly queue: BuildQueue;
  private readonly builder: ImageBuilder;
  private readonly mirrors = new Map<string, { mirror: GitMirror; fetch: () => Promise<void> }>();
  private readonly running = new Map<string, RunningBuild>();
  private readonly file: string;
  private closed = false;

  constructor(private readonly options: BuildRunnerOptions) {
    this.queue = new BuildQueue(options.limits, options.newId);
    this.builder = new ImageBuilder(options.docker);
    this.file = path.join(options.stateDir, "builds.json");
  }

  logFile(id: string): string {
    return path.join(this.options.stateDir, "builds", `${id}.log`);
  }

  /** Loads what the last run left (a running build is started once more) and starts what can start. */
  async start(): Promise<void> {
    const text = await readIfExists(this.file);
    if (text) {
      try {
        this.queue.restore((JSON.parse(text) as { builds: Build[] }).builds ?? [], this.options.clock.now());
      } catch (error) {
        this.options.logger.error(`the builds file ${this.file} is not readable (${describeError(error)}); starting without it`);
      }
    }
    await this.save();
    this.pump();
  }

  /** Checks the source and ref (git's own rules), then shares or queues the build. */
  async request(source: unknown, ref: { branch?: unknown; commit?: unknown }): Promise<{ build: Build; created: boolean }> {
    const sources = Object.keys(this.options.previews);
    if (typeof source !== "string" || !Object.hasOwn(this.options.previews, source)) throw new DomainError({ code: "unknown-source", asked: source, allowed: sources });
    const request = ref.commit !== undefined ? { source, commit: checkCommitId(ref.commit) } : { source, branch: await checkBranchName(ref.branch) };
    const result = this.queue.request(request, this.options.clock.now());
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
      this.queue.advance(id, "cancelled", this.options.clock.now(), { reason: "it was cancelled" });
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

  /** Waits until no build is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.queue.all().some((build) => this.queue.isActive(build))) {
      await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private pump(): void {
    if (this.closed) return;
    for (const build of this.queue.startable()) {
      const abort = new AbortController();
      const entry: RunningBuild = { abort, done: Promise.resolve() };
      this.queue.advance(build.id, "fetching", this.options.clock.now());
      entry.done = this.run(build, entry).finally(() => {
        this.running.delete(build.id);
        this.pump();
      });
      this.running.set(build.id, entry);
    }
  }

  private mirrorFor(source: string): { mirror: GitMirror; fetch: () => Promise<void> } {
    let entry = this.mirrors.get(source);
    if (!entry) {
      const mirror = GitMirror.forRepo(this.options.stateDir, this.options.previews[source]!.repo);
      // Builds of one repo that start together share one fetch.
      entry = { mirror, fetch: singleFlight(() => mirror.fetch()) };
      this.mirrors.set(source, entry);
    }
    return entry;
  }

  private async run(build: Build, entry: RunningBuild): Promise<void> {
    const preview = this.options.previews[build.source];
    const now = () => this.options.clock.now();
    const timer = setTimeout(() => {
      entry.why = "timed-out";
      entry.abort.abort();
    }, this.options.limits.timeout);
    try {
      if (!preview) throw new BuildFailure(`the source ${build.source} is no longer configured`);
      await this.save();
      const { mirror, fetch } = this.mirrorFor(build.source);
      await fetch().catch((error) => {
        throw new BuildFailure(`the repository could not be fetched: ${error instanceof GitError ? error.output.split("\n").slice(-2).join(" ") : describeError(error)}`);
      });
      const commit = build.branch ? (await mirror.branches()).get(build.branch) : await mirror.resolveCommit(build.commit!);
      if (!commit) throw new BuildFailure(build.branch ? `there is no branch ${build.branch} in ${build.source}` : `there is no commit ${build.commit} in ${build.source}`);
      if (entry.abort.signal.aborted) throw new BuildFailure("stopped");
      this.queue.advance(build.id, "building", now(), { commit });
      await this.save();
      const image = await this.builder.build({ source: build.source, commit, ...(build.branch ? { ref: build.branch } : {}), dockerfile: preview.dockerfile, context: preview.context, logFile: this.logFile(build.id), signal: entry.abort.signal }, mirror);
      this.queue.advance(build.id, "ready", now(), { image });
      try {
        this.options.onReady?.(build);
      } catch (error) {
        this.options.logger.warn(`build ${build.id}: its preview could not be served: ${describeError(error)}`);
      }
    } catch (error) {
      if (entry.why === "shutdown") return;
      const state = entry.why ?? "failed";
      const reason =
        entry.why === "cancelled" ? "it was cancelled" : entry.why === "timed-out" ? `it took longer than ${Math.round(this.options.limits.timeout / 1000)} s` : error instanceof BuildFailure || error instanceof ImageBuildError ? error.message : `the build could not run: ${describeError(error)}`;
      this.queue.advance(build.id, state, now(), { reason });
      this.options.logger.warn(`build ${build.id} (${build.source} ${build.branch ?? build.commit}) ${state}: ${reason}`);
    } finally {
      clearTimeout(timer);
      await this.save();
    }
  }

  private async save(): Promise<void> {
    try {
      await writeAtomically(this.file, `${JSON.stringify({ version: 1, builds: this.queue.all() })}\n`);
    } catch (error) {
      this.options.logger.error(`saving ${this.file} failed: ${describeError(error)}`);
    }
  }
}

interface RunningBuild {
  abort: AbortController;
  /** Why it was stopped: its outcome, or a shutdown (no outcome: the next start builds it again). */
  why?: "cancelled" | "timed-out" | "shutdown";
  done: Promise<void>;
}

/** A build that cannot go on, in words for the preview's page. */
class BuildFailure extends Error {}
