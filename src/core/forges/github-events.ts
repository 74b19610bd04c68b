// What a GitHub delivery asks for, read from its event name and payload; pure. Payloads are checked field by
// field: anything missing or of the wrong type is ignored with the reason, never a crash or a build.
import { changeNumber, commentIntent, linkOf, record, SHA, text, versionOf, type ForgeIntent } from "./forge-intent.js";

const BUILD_ACTIONS = new Set(["opened", "reopened", "synchronize"]);

/** `isConfigured` says whether a repository (owner/name, as GitHub spells it) has previews here. */
export function interpretGithubEvent(event: string, payload: unknown, isConfigured: (ownerRepo: string) => boolean): ForgeIntent {
  if (event === "ping") return { kind: "ping" };
  const body = record(payload);
  if (!body) return { kind: "ignore", reason: "the payload is not a JSON object" };
  const repo = text(record(body.repository)?.full_name);
  if (!repo) return { kind: "ignore", reason: "the payload names no repository (repository.full_name)" };
  if (!isConfigured(repo)) return { kind: "ignore", reason: `the repository ${repo} is not configured (github.repos)`, repo };
  if (event === "pull_request") return pullRequest(body, repo);
  if (event === "issue_comment") return issueComment(body, repo);
  if (event === "push") {
    const ref = text(body.ref);
    if (!ref) return { kind: "ignore", reason: "the push names no ref", repo };
    if (body.deleted !== true) return { kind: "ignore", reason: "pushes only matter when they delete a branch (pull requests are built from pull_request events)", repo };
    if (!ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `${ref} is not a branch`, repo };
    return { kind: "remove-branch", repo, branch: ref.slice("refs/heads/".length) };
  }
  return { kind: "ignore", reason: `the event ${JSON.stringify(event.slice(0, 60))} is not one this service acts on (pull_request, issue_comment, push, ping)`, repo };
}

/** A comment on a pull request (GitHub's pull requests are issues too): only new ones, never our own or a bot's. */
function issueComment(body: Record<string, unknown>, repo: string): ForgeIntent {
  const issue = record(body.issue);
  const comment = record(body.comment);
  const pr = changeNumber(issue?.number);
  if (!issue || !comment || pr === undefined) return { kind: "ignore", reason: "the issue_comment payload lacks issue or comment", repo };
  if (!record(issue.pull_request)) return { kind: "ignore", reason: "a comment on an issue, not on a pull request", repo, pr };
  if (text(body.action) !== "created") return { kind: "ignore", reason: "commands are read from new comments only (an edited or deleted one is not run again)", repo, pr };
  const id = comment.id;
  const user = text(record(comment.user)?.login);
  if (typeof id !== "number" || !Number.isInteger(id) || !user) return { kind: "ignore", reason: "the comment has no id or author", repo, pr };
  if (text(record(comment.user)?.type) === "Bot") return { kind: "ignore", reason: "a bot's comment", repo, pr };
  return commentIntent(comment.body, { repo, pr, comment: id, user, byAuthor: user === text(record(issue.user)?.login) });
}

function pullRequest(body: Record<string, unknown>, repo: string): ForgeIntent {
  const action = text(body.action);
  const pr = changeNumber(body.number);
  const pull = record(body.pull_request);
  if (!action || pr === undefined || !pull) return { kind: "ignore", reason: "the pull_request payload lacks action, number or pull_request", repo };
  if (action === "closed") return { kind: "remove-pr", repo, pr };
  if (!BUILD_ACTIONS.has(action)) return { kind: "ignore", reason: `the action ${JSON.stringify(action)} changes nothing to build`, repo, pr };
  const head = record(pull.head);
  const commit = text(head?.sha);
  if (!commit || !SHA.test(commit)) return { kind: "ignore", reason: "the pull request's head.sha is not a commit id", repo, pr };
  const headRepo = text(record(head?.repo)?.full_name);
  const labels = Array.isArray(pull.labels) ? pull.labels.flatMap((label) => (text(record(label)?.name) ? [text(record(label)?.name)!] : [])) : [];
  const author = text(record(pull.user)?.login) ?? "";
  // updated_at orders the events of one pull request: an older one never replaces a newer one.
  return { kind: "build", repo, pr, commit, version: versionOf(pull.updated_at), fork: headRepo !== repo, labels, author, ...linkOf(pull.html_url) };
}
