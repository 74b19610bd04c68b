// Catches what webhooks missed: at start and every `github.reconcile`, each repository's open pull requests are
// compared with the previews that run; a preview of a pull request closed meanwhile goes, and an open pull
// request whose head has neither a preview nor a build gets one (through the same trust rules as a webhook).
import type { Octokit } from "@octokit/core";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import type { GithubIntent } from "../core/github/github-events.js";
import type { Demo } from "../core/model.js";
import { pullRequestLabel } from "../core/previews/preview-names.js";
import type { BuildRunner } from "../builds/build-runner.js";
import type { GithubRepo } from "../config/load.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const MAX_PAGES = 10;

interface OpenPull {
  number: number;
  head: { sha: string; repo?: { full_name?: string } | null };
  updated_at: string;
  labels?: Array<{ name?: string }>;
  user?: { login?: string } | null;
}

export interface ReconcilerOptions {
  octokit: Octokit;
  repos: Record<string, GithubRepo>;
  previews: () => Demo[];
  runner: BuildRunner;
  handle: (intent: GithubIntent) => Promise<unknown>;
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
    for (const [repo, { source }] of Object.entries(this.options.repos)) {
      let open: OpenPull[];
      try {
        open = await this.openPulls(repo);
      } catch (error) {
        this.options.logger.warn(`reconciling ${repo}: GitHub did not list its pull requests (${describeError(error)}); next try at the next pass`);
        continue;
      }
      const openNumbers = new Set(open.map((pull) => pull.number));
      for (const demo of this.options.previews()) {
        const pr = new RegExp(`^${source}-pr-(\\d+)$`).exec(demo.id)?.[1];
        if (pr && !openNumbers.has(Number(pr))) {
          this.options.logger.info(`reconciling ${repo}: pull request #${pr} is closed; removing its preview`);
          await this.options.handle({ kind: "remove-pr", repo, pr: Number(pr) });
        }
      }
      for (const pull of open) {
        const host = pullRequestLabel(source, pull.number);
        const known = this.options.runner.queue.all().some((build) => build.host === host && build.commit === pull.head.sha);
        if (known) continue;
        const labels = (pull.labels ?? []).flatMap((label) => (label.name ? [label.name] : []));
        const version = Date.parse(pull.updated_at);
        await this.options.handle({ kind: "build", repo, pr: pull.number, commit: pull.head.sha, version: Number.isFinite(version) ? version : 0, fork: pull.head.repo?.full_name !== repo, labels, author: pull.user?.login ?? "" });
      }
    }
  }

  private async openPulls(repo: string): Promise<OpenPull[]> {
    const [owner, name] = repo.split("/") as [string, string];
    const pulls: OpenPull[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const { data } = await this.options.octokit.request("GET /repos/{owner}/{repo}/pulls", { owner, repo: name, state: "open", per_page: 100, page });
      const list = data as OpenPull[];
      pulls.push(...list.filter((pull) => typeof pull.number === "number" && /^[0-9a-f]{40}$/.test(pull.head?.sha ?? "")));
      if (list.length < 100) break;
    }
    return pulls;
  }
}
