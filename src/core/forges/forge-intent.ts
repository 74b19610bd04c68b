// What a forge's delivery (GitHub, GitLab) asks of the previews, the same whichever forge sent it, and who is trusted
// to have a change built; pure. Each forge's payload reader (github-events.ts, gitlab-events.ts) produces these.
import { parseCommand, type PreviewCommand } from "./commands.js";

/** The forges whose pull or merge requests get previews; a third (Gitea, Forgejo) would be one more reader and API. */
export type Forge = "github" | "gitlab";

/** How each forge names its changes, for comments, pages and logs. */
export const FORGE_WORDS: Record<Forge, { forge: string; change: string; mark: string; projects: string }> = {
  github: { forge: "GitHub", change: "pull request", mark: "#", projects: "github.repos" },
  gitlab: { forge: "GitLab", change: "merge request", mark: "!", projects: "gitlab.projects" },
};

/**
 * `repo` is the forge's name of the project (GitHub's owner/name, GitLab's path with its namespace) and `pr` the
 * change's number on it (a pull request's number, a merge request's iid).
 */
export type ForgeIntent =
  | { kind: "ping" }
  | { kind: "ignore"; reason: string; repo?: string; pr?: number }
  /** Build the change's head commit and serve it at the change's host. */
  | { kind: "build"; repo: string; pr: number; commit: string; version: number; fork: boolean; labels: string[]; author: string; authorId?: number; url?: string }
  | { kind: "remove-pr"; repo: string; pr: number }
  | { kind: "remove-branch"; repo: string; branch: string }
  /** A comment's command on the change's preview, or what is wrong with it; `comment` is the comment's id. */
  | CommandIntent;

export type CommandIntent = { kind: "command"; repo: string; pr: number; comment: number; user: string; userId?: number; byAuthor: boolean } & ({ command: PreviewCommand } | { problem: string });

/** A new comment on a change: its command, or an ignore when it holds none (most comments). */
export function commentIntent(body: unknown, facts: Omit<CommandIntent, "kind" | "command" | "problem">): ForgeIntent {
  const parsed = typeof body === "string" ? parseCommand(body.slice(0, 10_000)) : undefined;
  if (!parsed) return { kind: "ignore", reason: "the comment holds no command", repo: facts.repo, pr: facts.pr };
  return { kind: "command", ...facts, ...parsed };
}

export const SHA = /^[0-9a-f]{40}$/;
/** The most a change's number may be (both forges count from 1). */
const MAX_CHANGE = 10_000_000;

export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 300 ? value : undefined;
}

export function changeNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_CHANGE ? value : undefined;
}

/** A timestamp as a version (newest wins); 0 when unreadable. GitLab writes both ISO and "2015-05-17 18:21:36 UTC". */
export function versionOf(value: unknown): number {
  const raw = text(value) ?? "";
  const parsed = Date.parse(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(raw) ? `${raw.slice(0, 10)}T${raw.slice(11, 19)}Z` : raw);
  return Number.isFinite(parsed) ? parsed : 0;
}

/** A link to the change, when it is one (shown on the build page and in the comment). */
export function linkOf(value: unknown): { url?: string } {
  const url = text(value);
  return url && /^https?:\/\/[^\s"<>]+$/.test(url) ? { url } : {};
}

/**
 * Whether a build may run, by the project's `trust`: changes from the project itself always may. `canWrite` is what
 * the forge says of the author (undefined when it could not be asked).
 */
export function trustDecision(trust: string, intent: { fork: boolean; labels: string[]; author?: string }, canWrite?: boolean, forge: Forge = "github"): { build: true } | { build: false; reason: string } {
  const words = FORGE_WORDS[forge];
  if (!intent.fork || trust === "all") return { build: true };
  if (trust.startsWith("label:")) {
    const label = trust.slice("label:".length);
    return intent.labels.includes(label) ? { build: true } : { build: false, reason: `a ${words.change} from a fork is built once it has the label ${label}` };
  }
  if (canWrite) return { build: true };
  if (canWrite === false) return { build: false, reason: `a ${words.change} from a fork is built only for people who may push to the project, and ${intent.author || "its author"} has no write access` };
  return { build: false, reason: `a ${words.change} from a fork is built only for people who may push to the project, and ${words.forge} could not be asked (no ${forge}.token${forge === "github" ? " or app" : ""})` };
}
