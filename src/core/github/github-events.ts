// What a GitHub delivery asks for, read from its event name and payload; pure. Payloads are checked field by
// field: anything missing or of the wrong type is ignored with the reason, never a crash or a build.

export type GithubIntent =
  | { kind: "ping" }
  | { kind: "ignore"; reason: string; repo?: string; pr?: number }
  /** Build the pull request's head commit and serve it at the pull request's host. */
  | { kind: "build"; repo: string; pr: number; commit: string; version: number; fork: boolean; labels: string[]; author: string; url?: string }
  | { kind: "remove-pr"; repo: string; pr: number }
  | { kind: "remove-branch"; repo: string; branch: string };

const SHA = /^[0-9a-f]{40}$/;
const BUILD_ACTIONS = new Set(["opened", "reopened", "synchronize"]);

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 300 ? value : undefined;
}

/** `isConfigured` says whether a repository (owner/name, as GitHub spells it) has previews here. */
export function interpretEvent(event: string, payload: unknown, isConfigured: (ownerRepo: string) => boolean): GithubIntent {
  if (event === "ping") return { kind: "ping" };
  const body = record(payload);
  if (!body) return { kind: "ignore", reason: "the payload is not a JSON object" };
  const repo = text(record(body.repository)?.full_name);
  if (!repo) return { kind: "ignore", reason: "the payload names no repository (repository.full_name)" };
  if (!isConfigured(repo)) return { kind: "ignore", reason: `the repository ${repo} is not configured (github.repos)`, repo };
  if (event === "pull_request") return pullRequest(body, repo);
  if (event === "push") {
    const ref = text(body.ref);
    if (!ref) return { kind: "ignore", reason: "the push names no ref", repo };
    if (body.deleted !== true) return { kind: "ignore", reason: "pushes only matter when they delete a branch (pull requests are built from pull_request events)", repo };
    if (!ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `${ref} is not a branch`, repo };
    return { kind: "remove-branch", repo, branch: ref.slice("refs/heads/".length) };
  }
  return { kind: "ignore", reason: `the event ${JSON.stringify(event.slice(0, 60))} is not one this service acts on (pull_request, push, ping)`, repo };
}

function pullRequest(body: Record<string, unknown>, repo: string): GithubIntent {
  const action = text(body.action);
  const pr = body.number;
  const pull = record(body.pull_request);
  if (!action || typeof pr !== "number" || !Number.isInteger(pr) || pr < 1 || pr > 10_000_000 || !pull) return { kind: "ignore", reason: "the pull_request payload lacks action, number or pull_request", repo };
  if (action === "closed") return { kind: "remove-pr", repo, pr };
  if (!BUILD_ACTIONS.has(action)) return { kind: "ignore", reason: `the action ${JSON.stringify(action)} changes nothing to build`, repo, pr };
  const head = record(pull.head);
  const commit = text(head?.sha);
  if (!commit || !SHA.test(commit)) return { kind: "ignore", reason: "the pull request's head.sha is not a commit id", repo, pr };
  const headRepo = text(record(head?.repo)?.full_name);
  // updated_at orders the events of one pull request: an older one never replaces a newer one.
  const version = Date.parse(text(pull.updated_at) ?? "");
  const labels = Array.isArray(pull.labels) ? pull.labels.flatMap((label) => (text(record(label)?.name) ? [text(record(label)?.name)!] : [])) : [];
  const author = text(record(pull.user)?.login) ?? "";
  const url = text(pull.html_url);
  return { kind: "build", repo, pr, commit, version: Number.isFinite(version) ? version : 0, fork: headRepo !== repo, labels, author, ...(url && /^https?:\/\/[^\s"<>]+$/.test(url) ? { url } : {}) };
}

/**
 * Whether a build may run, by the repository's `trust`: pull requests from the repository itself always may.
 * `canWrite` is what GitHub says of the author (undefined when it could not be asked).
 */
export function trustDecision(trust: string, intent: { fork: boolean; labels: string[]; author?: string }, canWrite?: boolean): { build: true } | { build: false; reason: string } {
  if (!intent.fork || trust === "all") return { build: true };
  if (trust.startsWith("label:")) {
    const label = trust.slice("label:".length);
    return intent.labels.includes(label) ? { build: true } : { build: false, reason: `a pull request from a fork is built once it has the label ${label}` };
  }
  if (canWrite) return { build: true };
  if (canWrite === false) return { build: false, reason: `a pull request from a fork is built only for collaborators, and ${intent.author || "its author"} has no write access` };
  return { build: false, reason: "a pull request from a fork is built only for collaborators, and GitHub could not be asked (no github.token or app)" };
}
