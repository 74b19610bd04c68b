// Follows branches that have a live preview: each source's mirror is fetched every `refresh`, a branch that moved
// gets a build of its newest commit (its preview is then replaced with zero downtime), and a branch that is gone
// takes its preview with it (the sweep a missed push event would otherwise leave running).
import { describeError } from "../core/errors.js";
import type { Logger } from "../core/app-spec.js";
import { branchLabel } from "../core/previews/preview-names.js";
import type { BuildRunner } from "./build-runner.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const CHECK_EVERY_MS = 1000;

export class BranchFollower {
  private timer: Cancel | undefined;
  private running: Promise<void> | undefined;
  private readonly failing = new Set<string>();

  constructor(
    private readonly runner: BuildRunner,
    private readonly isLive: (label: string) => boolean,
    private readonly logger: Logger,
    private readonly scheduler: Scheduler = systemScheduler,
    /** Removes a branch preview whose branch is gone, with the reason. */
    private readonly removeGone: (label: string, reason: string) => Promise<unknown> = async () => {},
  ) {}

  private now(): number {
    return this.scheduler.now();
  }

  start(): void {
    this.timer = this.scheduler.every(CHECK_EVERY_MS, () => {
      this.running ??= this.check().finally(() => (this.running = undefined));
      return this.running;
    });
  }

  async close(): Promise<void> {
    this.timer?.();
    await this.running;
  }

  /** One pass: every source due for a refresh that has a live branch preview is fetched and its moved branches built. */
  async check(): Promise<void> {
    const newestByBranch = new Map<string, { source: string; branch: string; commit?: string }>();
    for (const build of this.runner.queue.all()) {
      if (build.branch && this.isLive(branchLabel(build.source, build.branch))) newestByBranch.set(`${build.source}\n${build.branch}`, { source: build.source, branch: build.branch, ...(build.commit ? { commit: build.commit } : {}) });
    }
    const sources = new Set([...newestByBranch.values()].map((entry) => entry.source));
    for (const source of sources) {
      const config = this.runner.sources[source];
      const mirror = this.runner.mirrors.get(source);
      if (!config || this.now() - mirror.fetchedAt < config.refresh) continue;
      let branches: Map<string, string>;
      try {
        branches = await this.runner.mirrors.branches(source, config.refresh);
        if (this.failing.delete(source)) this.logger.info(`the repository of ${source} can be fetched again`);
      } catch (error) {
        if (!this.failing.has(source)) this.logger.warn(`refreshing the branches of ${source}: ${describeError(error)}; trying again at the next refresh`);
        this.failing.add(source);
        // The failed fetch counts as this refresh: the next try waits another `refresh`.
        mirror.fetchedAt = this.now();
        continue;
      }
      for (const entry of newestByBranch.values()) {
        if (entry.source !== source) continue;
        const commit = branches.get(entry.branch);
        if (!commit) {
          const label = branchLabel(source, entry.branch);
          this.logger.info(`the branch ${entry.branch} of ${source} is gone; removing its preview ${label}`);
          await this.removeGone(label, `its branch ${entry.branch} is gone`).catch((error) => this.logger.warn(`removing ${label}: ${describeError(error)}`));
          continue;
        }
        if (!entry.commit || commit === entry.commit) continue;
        await this.runner.request(source, { branch: entry.branch }).catch((error) => this.logger.warn(`following ${source} ${entry.branch}: ${describeError(error)}`));
      }
    }
  }
}
