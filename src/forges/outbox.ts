// What we tell a forge (commit statuses, the one comment on a pull or merge request), through a persisted outbox:
// each message is on disk before it is sent, retried with exponential back-off and jitter (2, 4, 8, 16 … s), and
// waits as long as the forge says (Retry-After, an exhausted rate limit). A newer message for the same thing
// replaces an unsent one. One outbox per forge, each with its own file.
import path from "node:path";
import type { Logger } from "../core/app-spec.js";
import { FORGE_WORDS } from "../core/forges/forge-intent.js";
import type { ForgeApi } from "./forge-api.js";
import { describeError } from "../core/errors.js";
import { readIfExists, serialWriter } from "../files/atomic.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** Marks the comment we own on a pull request, so it is found and edited in place, never posted twice. */
export const COMMENT_MARKER = "<!-- demo-launcher:preview -->";
const MAX_DELAY_MS = 15 * 60_000;
const GIVE_UP_AFTER = 12;

export type OutboxMessage =
  | { kind: "status"; repo: string; commit: string; state: "pending" | "success" | "failure" | "error"; description: string; targetUrl?: string }
  /** One part of the comment: the preview's state (the default), its screenshots, or the answer to the last command; the others stay. */
  | { kind: "comment"; repo: string; pr: number; body: string; part?: CommentPart };

export type CommentPart = "preview" | "screens" | "command";

interface Entry {
  key: string;
  message: OutboxMessage;
  attempts: number;
  dueAt: number;
}

export interface OutboxOptions {
  api: ForgeApi;
  stateDir: string;
  logger: Logger;
  /** Time for retries; the system scheduler by default. */
  scheduler?: Scheduler;
  /** The first retry's pause; doubled each time (tests shorten it). */
  firstRetryMs?: number;
}

export class Outbox {
  private entries = new Map<string, Entry>();
  /** The id of our comment on each change (`<project>#n`), once found or made. */
  private comments = new Map<string, number>();
  /** The parts of each comment as last sent, so a command's answer keeps the preview's part and the other way round. */
  private parts = new Map<string, Partial<Record<CommentPart, string>>>();
  private readonly file: string;
  private timer: Cancel | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly scheduler: Scheduler;
  private readonly writeState: (content: () => string) => Promise<void>;

  constructor(private readonly options: OutboxOptions) {
    this.file = path.join(options.stateDir, `${options.api.forge}-outbox.json`);
    this.writeState = serialWriter(this.file, (error) => options.logger.error(`saving ${this.file}: ${describeError(error)}`));
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  private now(): number {
    return this.scheduler.now();
  }

  async start(): Promise<void> {
    const text = await readIfExists(this.file);
    try {
      const saved = text ? (JSON.parse(text) as { entries?: Entry[]; comments?: Record<string, number>; parts?: Record<string, Partial<Record<CommentPart, string>>> }) : {};
      this.parts = new Map(Object.entries(saved.parts ?? {}));
      for (const entry of saved.entries ?? []) this.entries.set(entry.key, entry);
      this.comments = new Map(Object.entries(saved.comments ?? {}));
    } catch (error) {
      this.options.logger.error(`${this.file} is not readable (${describeError(error)}); starting with an empty outbox`);
    }
    this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.();
    await this.sending;
  }

  /** Messages not sent yet (tests, the console). */
  pending(): OutboxMessage[] {
    return [...this.entries.values()].map((entry) => entry.message);
  }

  /** Queues a message (on disk when this resolves); an unsent one about the same status or comment is replaced. */
  async send(message: OutboxMessage): Promise<void> {
    const key = message.kind === "status" ? `status ${message.repo} ${message.commit}` : `comment ${message.repo}#${message.pr}`;
    if (message.kind === "comment") {
      const parts = { ...this.parts.get(key), [message.part ?? "preview"]: message.body };
      this.parts.set(key, parts);
      message = { kind: "comment", repo: message.repo, pr: message.pr, body: [parts.preview, parts.screens, parts.command].filter(Boolean).join("\n\n---\n") };
    }
    this.entries.set(key, { key, message, attempts: 0, dueAt: this.now() });
    await this.save();
    this.kick();
  }

  /** Waits until the pass under way has ended (its outcome on disk) and nothing is due now (tests, shutdown). */
  async flushed(): Promise<void> {
    for (;;) {
      await this.sending;
      if (![...this.entries.values()].some((entry) => entry.dueAt <= this.now())) return;
      this.kick();
    }
  }

  private kick(): void {
    if (this.closed) return;
    this.sending ??= this.sendDue().finally(() => {
      this.sending = undefined;
      this.armForNextDue();
    });
  }

  /** One timer, at the earliest retry: nothing runs while nothing is due. */
  private armForNextDue(): void {
    this.timer?.();
    this.timer = undefined;
    if (this.closed) return;
    let next: number | undefined;
    for (const entry of this.entries.values()) if (next === undefined || entry.dueAt < next) next = entry.dueAt;
    if (next !== undefined) this.timer = this.scheduler.after(Math.max(0, next - this.now()), () => this.kick());
  }

  private async sendDue(): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      if (entry.dueAt > this.now() || this.entries.get(entry.key) !== entry) continue;
      try {
        await this.deliver(entry.message);
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      } catch (error) {
        const status = (error as { status?: number }).status;
        entry.attempts += 1;
        if ((status !== undefined && status >= 400 && status < 500 && status !== 403 && status !== 429) || entry.attempts >= GIVE_UP_AFTER) {
          this.options.logger.warn(`${FORGE_WORDS[this.options.api.forge].forge} refused ${describeMessage(entry.message)} (${describeError(error)}); not sent`);
          this.entries.delete(entry.key);
        } else {
          entry.dueAt = this.now() + this.retryDelay(entry.attempts, error);
        }
      }
      await this.save();
    }
  }

  /**
   * The forge's own word first (Retry-After; GitHub's x-ratelimit-reset, GitLab's ratelimit-reset), else 2, 4, 8 … s
   * with up to 20 % jitter.
   */
  private retryDelay(attempts: number, error: unknown): number {
    const headers = ((error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {}) as Record<string, string | undefined>;
    const retryAfter = Number(headers["retry-after"]);
    if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(MAX_DELAY_MS, retryAfter * 1000);
    if (headers["x-ratelimit-remaining"] === "0" || headers["ratelimit-remaining"] === "0") {
      const reset = Number(headers["x-ratelimit-reset"] ?? headers["ratelimit-reset"]) * 1000;
      if (Number.isFinite(reset) && reset > this.now()) return Math.min(MAX_DELAY_MS, reset - this.now() + 1000);
    }
    const base = (this.options.firstRetryMs ?? 2000) * 2 ** (attempts - 1);
    return Math.min(MAX_DELAY_MS, base + Math.random() * base * 0.2);
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { api } = this.options;
    if (message.kind === "status") {
      await api.setStatus(message.repo, message.commit, message.state, message.description, message.targetUrl);
      return;
    }
    const body = `${COMMENT_MARKER}\n${message.body}`;
    const key = `${message.repo}#${message.pr}`;
    // A restart may have lost the id, not the comment: look for ours before making one.
    const id = this.comments.get(key) ?? (await api.findComment(message.repo, message.pr, COMMENT_MARKER));
    if (id !== undefined) await api.editComment(message.repo, message.pr, id, body);
    this.comments.set(key, id ?? (await api.createComment(message.repo, message.pr, body)));
  }

  /** One write at a time, in order: the last holds the newest state. */
  private save(): Promise<void> {
    return this.writeState(() => `${JSON.stringify({ version: 1, entries: [...this.entries.values()], comments: Object.fromEntries(this.comments), parts: Object.fromEntries(this.parts) })}\n`).catch(() => {});
  }
}

function describeMessage(message: OutboxMessage): string {
  return message.kind === "status" ? `the ${message.state} status of ${message.repo}@${message.commit.slice(0, 12)}` : `the comment on ${message.repo}#${message.pr}`;
}
