// A forge's webhooks acted on (GitHub's, GitLab's): a delivery is checked (the forge's signature or token, by any
// configured secret), written to disk, answered, and only then acted on: pull and merge requests built and served at
// `<source>-pr-<n>` / `<source>-mr-<n>`, closed ones and deleted branches removed. Redeliveries are counted, never
// acted on twice; deliveries a crash interrupted are acted on at start.
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { FORGE_WORDS, trustDecision, type Forge, type ForgeIntent } from "../core/forges/forge-intent.js";
import { interpretGithubEvent } from "../core/forges/github-events.js";
import { interpretGitlabEvent } from "../core/forges/gitlab-events.js";
import { branchLabel, pullRequestLabel } from "../core/previews/preview-names.js";
import { removePreview, type PreviewBuilds, type PreviewRemovalEngine } from "../builds/preview-removal.js";
import type { ForgeProject } from "../config/load.js";
import type { Delivery, DeliveryLog, DeliveryOutcome } from "./deliveries.js";
import type { ForgeApi } from "./forge-api.js";
import type { PullRequestReporter } from "./reporter.js";
import type { CommentCommands } from "./comment-commands.js";

const READERS: Record<Forge, typeof interpretGithubEvent> = { github: interpretGithubEvent, gitlab: interpretGitlabEvent };

export interface ForgeHooksOptions {
  forge: Forge;
  /** Whether a delivery's credential (GitHub's signature header, GitLab's token header) matches a configured secret. */
  verify: (raw: Buffer, credential: string | undefined) => Promise<boolean>;
  repos: Record<string, ForgeProject>;
  runner: PreviewBuilds;
  engine: PreviewRemovalEngine;
  deliveries: DeliveryLog;
  logger: Logger;
  /** Asks the forge whether a fork's author may push (trust: collaborators). */
  api?: ForgeApi;
  /** Reports refusals to the change (its build's progress is reported by the runner's listener). */
  reporter?: PullRequestReporter;
  /** Carries out comment commands; without it they are ignored. */
  commands?: CommentCommands;
}

export type HookAnswer = { status: 200 | 202; body: Record<string, unknown> };

export class ForgeHooks {
  private readonly acting = new Set<Promise<void>>();

  constructor(private readonly options: ForgeHooksOptions) {}

  get forge(): Forge {
    return this.options.forge;
  }

  private interpret(event: string, payload: unknown): ForgeIntent {
    return READERS[this.options.forge](event, payload, (repo) => Object.hasOwn(this.options.repos, repo));
  }

  get deliveries(): DeliveryLog {
    return this.options.deliveries;
  }

  /** Acts on this forge's deliveries an earlier run wrote but never finished (the log's start answers them). */
  async start(unfinished: Delivery[]): Promise<void> {
    for (const delivery of unfinished.filter((delivery) => (delivery.forge ?? "github") === this.forge)) {
      const raw = await this.options.deliveries.payload(delivery.id);
      let payload: unknown;
      try {
        payload = raw ? JSON.parse(raw.toString("utf8")) : undefined;
      } catch {
        payload = undefined;
      }
      this.later(delivery, this.interpret(delivery.event, payload));
    }
  }

  /** True while a delivery is being acted on. */
  get busy(): boolean {
    return this.acting.size > 0;
  }

  /** Waits for what is being acted on (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.acting.size > 0) await Promise.allSettled([...this.acting]);
  }

  /** Whether the credential matches one of the secrets; constant time. */
  verified(raw: Buffer, credential: string | undefined): Promise<boolean> {
    return this.options.verify(raw, credential);
  }

  /** A verified delivery: on disk before this resolves; acted on after. */
  async accept(id: string, event: string, raw: Buffer, payload: unknown): Promise<HookAnswer> {
    const { deliveries } = this.options;
    if (deliveries.get(id)) {
      await deliveries.again(id);
      return { status: 200, body: { delivery: id, duplicate: true, outcome: deliveries.get(id)!.outcome } };
    }
    const intent = this.interpret(event, payload);
    if (intent.kind === "ping") {
      await deliveries.receive({ id, forge: this.forge, event, outcome: "ignored", reason: "ping" }, raw);
      return { status: 200, body: { delivery: id, pong: true } };
    }
    if (intent.kind === "ignore") {
      await deliveries.receive({ id, forge: this.forge, event, outcome: "ignored", reason: intent.reason, ...(intent.repo ? { repo: intent.repo } : {}), ...(intent.pr ? { pr: intent.pr } : {}) }, raw);
      return { status: 202, body: { delivery: id, ignored: true, reason: intent.reason } };
    }
    const delivery = await deliveries.receive({ id, forge: this.forge, event, outcome: "received", repo: intent.repo, ...("pr" in intent ? { pr: intent.pr } : {}), ...(intent.kind === "build" ? { commit: intent.commit } : {}), ...(intent.kind === "command" ? { comment: intent.comment } : {}) }, raw);
    this.later(delivery, intent);
    return { status: 202, body: { delivery: id, accepted: true } };
  }

  private later(delivery: Delivery, intent: ForgeIntent): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.act(delivery, intent))
      .catch(async (error) => {
        this.options.logger.warn(`${FORGE_WORDS[this.options.forge].forge} delivery ${delivery.id}: ${describeError(error)}`);
        await this.options.deliveries.settle(delivery.id, "failed", { reason: describeError(error) });
      })
      .finally(() => this.acting.delete(task));
    this.acting.add(task);
  }

  private async act(delivery: Delivery, intent: ForgeIntent): Promise<void> {
    const { outcome, ...extra } = await this.handle(intent);
    await this.options.deliveries.settle(delivery.id, outcome, extra);
  }

  /** Does what an intent asks (a delivery's, or the reconciler's); answers the outcome in words. */
  async handle(intent: ForgeIntent): Promise<{ outcome: Exclude<DeliveryOutcome, "received">; reason?: string; build?: string }> {
    const { runner, engine, repos, forge, api } = this.options;
    if (intent.kind === "ping" || intent.kind === "ignore") return { outcome: "ignored", reason: intent.kind === "ignore" ? intent.reason : "ping" };
    const repo = repos[intent.repo]!;
    if (intent.kind === "command") return this.options.commands ? this.options.commands.handle(intent) : { outcome: "ignored", reason: "comment commands are not taken here" };
    if (intent.kind === "build") {
      const canPush = intent.fork && repo.trust === "collaborators" ? await api?.canPush(intent.repo, { name: intent.author, ...(intent.authorId !== undefined ? { id: intent.authorId } : {}) }) : undefined;
      const trust = trustDecision(repo.trust, intent, canPush, forge);
      if (!trust.build) {
        this.options.reporter?.refused(intent.repo, intent.commit, trust.reason);
        return { outcome: "ignored", reason: trust.reason };
      }
      const host = pullRequestLabel(repo.source, intent.pr, forge);
      const { build } = await runner.request(repo.source, { commit: intent.commit }, { host, version: intent.version, untrusted: intent.fork && repo.trust === "all", ...(intent.url ? { link: intent.url } : {}) });
      // An older event than the newest seen for this pull request is answered with the newer build.
      const older = build.commit !== intent.commit;
      const words = FORGE_WORDS[forge];
      return { outcome: older ? "ignored" : "queued", build: build.id, ...(older ? { reason: `a newer commit (${build.commit?.slice(0, 12)}) of ${words.change} ${words.mark}${intent.pr} is built instead` } : {}) };
    }
    const label = intent.kind === "remove-pr" ? pullRequestLabel(repo.source, intent.pr, forge) : branchLabel(repo.source, intent.branch);
    const words = FORGE_WORDS[forge];
    const removal = await removePreview(engine, runner, label, intent.kind === "remove-pr" ? `its ${words.change} was closed` : `its branch ${intent.branch} was deleted`);
    return { outcome: "removed", reason: removal.removed || removal.cancelledBuilds.length ? `removed ${label} (${removal.removedImages.length} image(s))` : `there was no preview at ${label}` };
  }
}
