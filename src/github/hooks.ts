// GitHub webhooks acted on: a delivery is checked (signature by any configured secret), written to disk, answered,
// and only then acted on: pull requests built and served at `<source>-pr-<n>`, closed ones and deleted branches
// removed. Redeliveries are counted, never acted on twice; deliveries a crash interrupted are acted on at start.
import { verify } from "@octokit/webhooks-methods";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { interpretEvent, trustDecision, type GithubIntent } from "../core/github/github-events.js";
import { branchLabel, pullRequestLabel } from "../core/previews/preview-names.js";
import { removePreview, type PreviewBuilds, type PreviewRemovalEngine } from "../builds/preview-removal.js";
import type { GithubRepo } from "../config/load.js";
import type { Delivery, DeliveryLog, DeliveryOutcome } from "./deliveries.js";
import type { PullRequestReporter } from "./reporter.js";
import type { Octokit } from "@octokit/core";

export interface GithubHooksOptions {
  secrets: string[];
  repos: Record<string, GithubRepo>;
  runner: PreviewBuilds;
  engine: PreviewRemovalEngine;
  deliveries: DeliveryLog;
  logger: Logger;
  /** Asks GitHub whether a fork's author may write (trust: collaborators). */
  octokit?: Octokit;
  /** Reports refusals to the pull request (its build's progress is reported by the runner's listener). */
  reporter?: PullRequestReporter;
}

export type HookAnswer = { status: 200 | 202; body: Record<string, unknown> };

export class GithubHooks {
  private readonly acting = new Set<Promise<void>>();

  constructor(private readonly options: GithubHooksOptions) {}

  get deliveries(): DeliveryLog {
    return this.options.deliveries;
  }

  /** Acts on deliveries an earlier run wrote but never finished. */
  async start(): Promise<void> {
    for (const delivery of await this.options.deliveries.start()) {
      const raw = await this.options.deliveries.payload(delivery.id);
      let payload: unknown;
      try {
        payload = raw ? JSON.parse(raw.toString("utf8")) : undefined;
      } catch {
        payload = undefined;
      }
      this.later(delivery, interpretEvent(delivery.event, payload, (repo) => Object.hasOwn(this.options.repos, repo)));
    }
  }

  /** Waits for what is being acted on (tests, shutdown). */
  /** True while a delivery is being acted on. */
  get busy(): boolean {
    return this.acting.size > 0;
  }

  async idle(): Promise<void> {
    while (this.acting.size > 0) await Promise.allSettled([...this.acting]);
  }

  /** Whether the signature (`sha256=<hex>` over the raw bytes) was made with one of the secrets; constant time. */
  async verified(raw: Buffer, signature: string | undefined): Promise<boolean> {
    if (!signature || !/^sha256=[0-9a-f]{64}$/.test(signature)) return false;
    const text = raw.toString("utf8");
    for (const secret of this.options.secrets) {
      if (await verify(secret, text, signature).catch(() => false)) return true;
    }
    return false;
  }

  /** A verified delivery: on disk before this resolves; acted on after. */
  async accept(id: string, event: string, raw: Buffer, payload: unknown): Promise<HookAnswer> {
    const { deliveries } = this.options;
    if (deliveries.get(id)) {
      await deliveries.again(id);
      return { status: 200, body: { delivery: id, duplicate: true, outcome: deliveries.get(id)!.outcome } };
    }
    const intent = interpretEvent(event, payload, (repo) => Object.hasOwn(this.options.repos, repo));
    if (intent.kind === "ping") {
      await deliveries.receive({ id, event, outcome: "ignored", reason: "ping" }, raw);
      return { status: 200, body: { delivery: id, pong: true } };
    }
    if (intent.kind === "ignore") {
      await deliveries.receive({ id, event, outcome: "ignored", reason: intent.reason, ...(intent.repo ? { repo: intent.repo } : {}), ...(intent.pr ? { pr: intent.pr } : {}) }, raw);
      return { status: 202, body: { delivery: id, ignored: true, reason: intent.reason } };
    }
    const delivery = await deliveries.receive({ id, event, outcome: "received", repo: intent.repo, ...("pr" in intent ? { pr: intent.pr } : {}), ...(intent.kind === "build" ? { commit: intent.commit } : {}) }, raw);
    this.later(delivery, intent);
    return { status: 202, body: { delivery: id, accepted: true } };
  }

  /** Whether GitHub says the user may write to the repository; undefined when it cannot be asked. */
  private async canWrite(repo: string, user: string): Promise<boolean | undefined> {
    const { octokit } = this.options;
    if (!octokit || !user) return undefined;
    const [owner, name] = repo.split("/") as [string, string];
    try {
      const { data } = await octokit.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", { owner, repo: name, username: user });
      return ["admin", "maintain", "write"].includes(String((data as { permission?: string }).permission));
    } catch (error) {
      // 404: not a collaborator at all. Anything else: GitHub did not answer, and nothing is built on a guess.
      return (error as { status?: number }).status === 404 ? false : undefined;
    }
  }

  private later(delivery: Delivery, intent: GithubIntent): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.act(delivery, intent))
      .catch(async (error) => {
        this.options.logger.warn(`GitHub delivery ${delivery.id}: ${describeError(error)}`);
        await this.options.deliveries.settle(delivery.id, "failed", { reason: describeError(error) });
      })
      .finally(() => this.acting.delete(task));
    this.acting.add(task);
  }

  private async act(delivery: Delivery, intent: GithubIntent): Promise<void> {
    const { outcome, ...extra } = await this.handle(intent);
    await this.options.deliveries.settle(delivery.id, outcome, extra);
  }

  /** Does what an intent asks (a delivery's, or the reconciler's); answers the outcome in words. */
  async handle(intent: GithubIntent): Promise<{ outcome: Exclude<DeliveryOutcome, "received">; reason?: string; build?: string }> {
    const { runner, engine, repos } = this.options;
    if (intent.kind === "ping" || intent.kind === "ignore") return { outcome: "ignored", reason: intent.kind === "ignore" ? intent.reason : "ping" };
    const repo = repos[intent.repo]!;
    if (intent.kind === "build") {
      const trust = trustDecision(repo.trust, intent, intent.fork && repo.trust === "collaborators" ? await this.canWrite(intent.repo, intent.author) : undefined);
      if (!trust.build) {
        this.options.reporter?.refused(intent.repo, intent.commit, trust.reason);
        return { outcome: "ignored", reason: trust.reason };
      }
      const host = pullRequestLabel(repo.source, intent.pr);
      const { build } = await runner.request(repo.source, { commit: intent.commit }, { host, version: intent.version, untrusted: intent.fork && repo.trust === "all", ...(intent.url ? { link: intent.url } : {}) });
      // An older event than the newest seen for this pull request is answered with the newer build.
      const older = build.commit !== intent.commit;
      return { outcome: older ? "ignored" : "queued", build: build.id, ...(older ? { reason: `a newer commit (${build.commit?.slice(0, 12)}) of pull request #${intent.pr} is built instead` } : {}) };
    }
    const label = intent.kind === "remove-pr" ? pullRequestLabel(repo.source, intent.pr) : branchLabel(repo.source, intent.branch);
    const removal = await removePreview(engine, runner, label);
    return { outcome: "removed", reason: removal.removed || removal.cancelledBuilds.length ? `removed ${label} (${removal.removedImages.length} image(s))` : `there was no preview at ${label}` };
  }

}
