// Catches what webhooks missed, for one forge: at start and every `<forge>.reconcile`, each project's open pull or
// merge requests are compared with the previews that run; a preview of a change closed meanwhile goes, and an open
// change whose head has neither a preview nor a build gets one (through the same trust rules as a webhook).
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { FORGE_WORDS, type ForgeIntent } from "../core/forges/forge-intent.js";
import type { Demo } from "../core/model.js";
import { changeOfLabel, pullRequestLabel } from "../core/previews/preview-names.js";
import type { BuildRunner } from "../builds/build-runner.js";
import type { ForgeProject } from "../config/load.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import type { ForgeApi } from "./forge-api.js";

export interface ReconcilerOptions {
  api: ForgeApi;
  repos: Record<string, ForgeProject>;
  previews: () => Demo[];
  runner: Pick<BuildRunner, "queue">;
  handle: (intent: ForgeIntent) => Promise<unknown>;
  everyMs: number;
  logger: Logger;
  /** Runs the passes; the system scheduler by default. */
  scheduler?: Scheduler;
}

export class PullRequestReconciler {
  private timer: Cancel | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ReconcilerOptions) {}

  start(): void {
    this.kick();
    this.timer = (this.options.scheduler ?? systemScheduler).every(this.options.everyMs, () => this.kick());
  }

  async close(): Promise<void> {
    this.timer?.();
    await this.running;
  }

  /** One pass now (or the one under way). */
  kick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { api, logger } = this.options;
    const words = FORGE_WORDS[api.forge];
    for (const [repo, { source }] of Object.entries(this.options.repos)) {
      let open: Awaited<ReturnType<ForgeApi["openChanges"]>>;
      try {
        open = await api.openChanges(repo);
      } catch (error) {
        logger.warn(`reconciling ${repo}: ${words.forge} did not list its ${words.change}s (${describeError(error)}); next try at the next pass`);
        continue;
      }
      const openNumbers = new Set(open.map((change) => change.number));
      for (const demo of this.options.previews()) {
        const change = changeOfLabel(demo.id);
        if (change && change.source === source && change.forge === api.forge && !openNumbers.has(change.number)) {
          logger.info(`reconciling ${repo}: ${words.change} ${words.mark}${change.number} is closed; removing its preview`);
          await this.options.handle({ kind: "remove-pr", repo, pr: change.number });
        }
      }
      for (const change of open) {
        const host = pullRequestLabel(source, change.number, api.forge);
        if (this.options.runner.queue.all().some((build) => build.host === host && build.commit === change.commit)) continue;
        await this.options.handle({ kind: "build", repo, pr: change.number, commit: change.commit, version: change.updatedAt, fork: change.fork, labels: change.labels, author: change.author, ...(change.authorId !== undefined ? { authorId: change.authorId } : {}) });
      }
    }
  }
}
