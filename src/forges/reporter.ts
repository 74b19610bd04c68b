// Tells each pull or merge request how its preview goes, through its forge's outbox: a commit status (pending →
// success with the preview's URL, or failure with the build log's) and one comment with the URL, edited in place on
// every push.
import type { Build } from "../core/builds/build-queue.js";
import { FORGE_WORDS, type Forge } from "../core/forges/forge-intent.js";
import { changeOfLabel } from "../core/previews/preview-names.js";
import type { Outbox, OutboxMessage } from "./outbox.js";

export interface ReporterOptions {
  forge: Forge;
  outbox: Outbox;
  /** Preview source → the forge's project (owner/name, group/project), for this forge's sources only. */
  repoOf: (source: string) => string | undefined;
  /** A preview host label → its public URL (with a trailing /). */
  urlOf: (label: string) => string;
  onError: (message: string) => void;
  /** A share link for the comment of a gated preview whose project asks for one (shareInComment). */
  shareLink?: (source: string, label: string) => Promise<string | undefined>;
  /** The screenshots part of a ready build's comment (taken after it is ready), or undefined where its source takes none. */
  screens?: (build: Build) => Promise<string | undefined>;
}

export class PullRequestReporter {
  private readonly forge: Forge;
  private readonly outbox: Outbox;
  private readonly repoOf: ReporterOptions["repoOf"];
  private readonly urlOf: ReporterOptions["urlOf"];
  private readonly onError: ReporterOptions["onError"];
  private readonly shareLink: NonNullable<ReporterOptions["shareLink"]>;
  private readonly screens: NonNullable<ReporterOptions["screens"]>;

  constructor(options: ReporterOptions) {
    ({ forge: this.forge, outbox: this.outbox, repoOf: this.repoOf, urlOf: this.urlOf, onError: this.onError } = options);
    this.shareLink = options.shareLink ?? (async () => undefined);
    this.screens = options.screens ?? (async () => undefined);
  }

  /** The newest comment asked for per change: a slower older one (its share link still being made) is dropped. */
  private readonly commentTurn = new Map<string, number>();

  /** A build's state changed (the build runner calls it). */
  buildChanged(build: Build): void {
    const change = build.host ? changeOfLabel(build.host) : undefined;
    const repo = this.repoOf(build.source);
    if (!change || change.forge !== this.forge || !repo || !build.commit || !/^[0-9a-f]{40}$/.test(build.commit)) return;
    const pr = change.number;
    const words = FORGE_WORDS[this.forge];
    const commit = build.commit;
    const url = this.urlOf(build.host!);
    const short = commit.slice(0, 12);
    if (build.state === "queued") this.send({ kind: "status", repo, commit, state: "pending", description: `Building the preview of ${short}` });
    else if (build.state === "ready") {
      this.send({ kind: "status", repo, commit, state: "success", description: "The preview is ready", targetUrl: url });
      const turn = this.nextTurn(repo, pr);
      void this.shareLink(build.source, build.host!)
        .catch((error: unknown) => void this.onError(`making the share link for ${repo}${words.mark}${pr}: ${(error as Error).message}`))
        .then((link) => {
          if (this.commentTurn.get(`${repo}#${pr}`) !== turn) return;
          const shared = link ? `\n\nNo account here? This link opens it without signing in until it ends: ${link}` : "";
          this.send({ kind: "comment", repo, pr, body: `**Preview** of ${short}: ${url}\n\nIt follows this ${words.change}: every push replaces it, closing the ${words.change} removes it.${shared}` });
        });
      // Screenshots come after the preview is ready and never hold it up; a newer build's comment wins over them.
      void this.screens(build)
        .catch((error: unknown) => `**Screenshots**: none (${(error as Error).message})`)
        .then((part) => {
          if (part !== undefined && this.commentTurn.get(`${repo}#${pr}`) === turn) this.send({ kind: "comment", repo, pr, body: part, part: "screens" });
        });
    } else if (build.state === "failed" || build.state === "timed-out") {
      const log = `${url}__demo/build.log`;
      this.nextTurn(repo, pr);
      this.send({ kind: "status", repo, commit, state: "failure", description: `The preview could not be built: ${build.reason ?? build.state}`, targetUrl: log });
      this.send({ kind: "comment", repo, pr, body: `**Preview**: ${short} could not be built (${build.reason ?? build.state}). The build log: ${log}\n\nThe last preview that was built, if any, still serves ${url}` });
    }
  }

  /** Queues a message; a failure to queue it (a full disk) is told, never thrown at the build or the hook. */
  private send(message: OutboxMessage): void {
    void this.outbox.send(message).catch((error) => this.onError(`queueing a message to ${FORGE_WORDS[this.forge].forge}: ${(error as Error).message}`));
  }

  private nextTurn(repo: string, pr: number): number {
    const turn = (this.commentTurn.get(`${repo}#${pr}`) ?? 0) + 1;
    this.commentTurn.set(`${repo}#${pr}`, turn);
    return turn;
  }

  /** A change's preview ended (its change closed, its hard end, unused for its keep, deleted): the comment says so. */
  previewEnded(label: string, reason: string): void {
    const change = changeOfLabel(label);
    const repo = change ? this.repoOf(change.source) : undefined;
    if (!change || change.forge !== this.forge || !repo) return;
    this.nextTurn(repo, change.number);
    this.send({ kind: "comment", repo, pr: change.number, body: "", part: "screens" });
    this.send({ kind: "comment", repo, pr: change.number, body: `**Preview** removed: ${reason}. A push to the ${FORGE_WORDS[this.forge].change} (or \`/demo-launcher redeploy\`) builds it again.` });
  }

  /** The answer to a comment's command, in the comment's own part for it (the preview's part stays). */
  answered(repo: string, pr: number, text: string): void {
    this.send({ kind: "comment", repo, pr, body: text, part: "command" });
  }

  /** A change that is not built (a fork nobody vouched for): its status says why. */
  refused(repo: string, commit: string, reason: string): void {
    this.send({ kind: "status", repo, commit, state: "error", description: `No preview: ${reason}` });
  }
}
