// What a GitLab delivery asks for, read from its X-Gitlab-Event and payload; pure. Field by field like GitHub's:
// anything missing or of the wrong type is ignored with the reason. Merge requests are built on open, reopen and an
// update that brings commits (oldrev) or changes labels (a label may be what trusts a fork); close and merge remove.
import { changeNumber, commentIntent, linkOf, record, SHA, text, versionOf, type ForgeIntent } from "./forge-intent.js";

const NO_COMMIT = /^0{40}$/;
const REMOVE_ACTIONS = new Set(["close", "merge"]);

/** `isConfigured` says whether a project (its path with namespace, `group/sub/project`) has previews here. */
export function interpretGitlabEvent(event: string, payload: unknown, isConfigured: (path: string) => boolean): ForgeIntent {
  const body = record(payload);
  if (!body) return { kind: "ignore", reason: "the payload is not a JSON object" };
  const repo = text(record(body.project)?.path_with_namespace);
  if (!repo) return { kind: "ignore", reason: "the payload names no project (project.path_with_namespace)" };
  if (!isConfigured(repo)) return { kind: "ignore", reason: `the project ${repo} is not configured (gitlab.projects)`, repo };
  if (event === "Merge Request Hook") return mergeRequest(body, repo);
  if (event === "Note Hook") return note(body, repo);
  if (event === "Push Hook") {
    const ref = text(body.ref);
    if (!ref) return { kind: "ignore", reason: "the push names no ref", repo };
    if (!NO_COMMIT.test(text(body.after) ?? "")) return { kind: "ignore", reason: "pushes only matter when they delete a branch (merge requests are built from merge request events)", repo };
    if (!ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `${ref} is not a branch`, repo };
    return { kind: "remove-branch", repo, branch: ref.slice("refs/heads/".length) };
  }
  return { kind: "ignore", reason: `the event ${JSON.stringify(event.slice(0, 60))} is not one this service acts on (Merge Request Hook, Note Hook, Push Hook)`, repo };
}

/** A comment (a note) on a merge request: only new ones by people, never system notes. */
function note(body: Record<string, unknown>, repo: string): ForgeIntent {
  const attributes = record(body.object_attributes);
  const mergeRequest = record(body.merge_request);
  if (text(attributes?.noteable_type) !== "MergeRequest") return { kind: "ignore", reason: "a comment on something else than a merge request", repo };
  const pr = changeNumber(mergeRequest?.iid);
  if (!attributes || !mergeRequest || pr === undefined) return { kind: "ignore", reason: "the note payload lacks object_attributes or merge_request.iid", repo };
  // GitLab before 16.11 sends no action: its note events were all new notes.
  const action = text(attributes.action) ?? "create";
  if (action !== "create") return { kind: "ignore", reason: "commands are read from new comments only (an edited one is not run again)", repo, pr };
  if (attributes.system === true) return { kind: "ignore", reason: "a system note", repo, pr };
  const id = attributes.id;
  const user = record(body.user);
  const userId = typeof user?.id === "number" && Number.isInteger(user.id) ? user.id : undefined;
  const name = text(user?.username);
  if (typeof id !== "number" || !Number.isInteger(id) || userId === undefined || !name) return { kind: "ignore", reason: "the note has no id or author", repo, pr };
  return commentIntent(attributes.note, { repo, pr, comment: id, user: name, userId, byAuthor: userId === mergeRequest.author_id });
}

function mergeRequest(body: Record<string, unknown>, repo: string): ForgeIntent {
  const attributes = record(body.object_attributes);
  const action = text(attributes?.action);
  const pr = changeNumber(attributes?.iid);
  if (!attributes || !action || pr === undefined) return { kind: "ignore", reason: "the merge request payload lacks object_attributes, its action or its iid", repo };
  if (REMOVE_ACTIONS.has(action)) return { kind: "remove-pr", repo, pr };
  const changes = record(body.changes);
  const pushed = action === "update" && (text(attributes.oldrev) !== undefined || changes?.labels !== undefined);
  if (action !== "open" && action !== "reopen" && !pushed) return { kind: "ignore", reason: `the action ${JSON.stringify(action)} changes nothing to build`, repo, pr };
  const commit = text(record(attributes.last_commit)?.id);
  if (!commit || !SHA.test(commit)) return { kind: "ignore", reason: "the merge request's last_commit.id is not a commit id", repo, pr };
  // A fork's merge request comes from another project than the one it targets.
  const fork = attributes.source_project_id !== attributes.target_project_id;
  const labelList = Array.isArray(body.labels) ? body.labels : Array.isArray(attributes.labels) ? attributes.labels : [];
  const labels = labelList.flatMap((label) => (text(record(label)?.title) ? [text(record(label)?.title)!] : []));
  // Membership is asked by user id; the name is for messages (the event's user is the author only on some events).
  const authorId = typeof attributes.author_id === "number" && Number.isInteger(attributes.author_id) ? attributes.author_id : undefined;
  const user = record(body.user);
  const author = user && user.id === authorId ? (text(user.username) ?? "") : authorId !== undefined ? `user ${authorId}` : "";
  return { kind: "build", repo, pr, commit, version: versionOf(attributes.updated_at), fork, labels, author, ...(authorId !== undefined ? { authorId } : {}), ...linkOf(attributes.url) };
}
