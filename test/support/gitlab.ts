// GitLab deliveries for tests: the payload examples of GitLab's documentation (docs.gitlab.com, "Webhook events":
// merge request, push and comment events), rewritten to point at local commits, sent with GitLab's headers.
import { randomUUID } from "node:crypto";
import { request, type Answer } from "./stack.js";

export const EXAMPLE_PROJECT = "gitlabhq/gitlab-test";

const PROJECT = {
  id: 1,
  name: "Gitlab Test",
  description: "Aut reprehenderit ut est.",
  web_url: "http://example.com/gitlabhq/gitlab-test",
  avatar_url: null,
  git_ssh_url: "git@example.com:gitlabhq/gitlab-test.git",
  git_http_url: "http://example.com/gitlabhq/gitlab-test.git",
  namespace: "GitlabHQ",
  visibility_level: 20,
  path_with_namespace: "gitlabhq/gitlab-test",
  default_branch: "master",
  ci_config_path: "",
  homepage: "http://example.com/gitlabhq/gitlab-test",
  url: "http://example.com/gitlabhq/gitlab-test.git",
  ssh_url: "git@example.com:gitlabhq/gitlab-test.git",
  http_url: "http://example.com/gitlabhq/gitlab-test.git",
};

const AWESOME = {
  name: "Awesome Project",
  description: "Aut reprehenderit ut est.",
  web_url: "http://example.com/awesome_space/awesome_project",
  avatar_url: null,
  git_ssh_url: "git@example.com:awesome_space/awesome_project.git",
  git_http_url: "http://example.com/awesome_space/awesome_project.git",
  namespace: "Awesome Space",
  visibility_level: 20,
  path_with_namespace: "awesome_space/awesome_project",
  default_branch: "master",
  homepage: "http://example.com/awesome_space/awesome_project",
  url: "http://example.com/awesome_space/awesome_project.git",
  ssh_url: "git@example.com:awesome_space/awesome_project.git",
  http_url: "http://example.com/awesome_space/awesome_project.git",
};

const API_LABEL = { id: 206, title: "API", color: "#ffffff", project_id: 14, created_at: "2013-12-03T17:15:43Z", updated_at: "2013-12-03T17:15:43Z", template: false, description: "API related issues", type: "ProjectLabel", group_id: 41 };

/** The documentation's "Merge request events" example (X-Gitlab-Event: Merge Request Hook). */
export const MERGE_REQUEST_EXAMPLE = {
  object_kind: "merge_request",
  event_type: "merge_request",
  user: { id: 1, name: "Administrator", username: "root", avatar_url: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon", email: "admin@example.com" },
  project: PROJECT,
  repository: { name: "Gitlab Test", url: "http://example.com/gitlabhq/gitlab-test.git", description: "Aut reprehenderit ut est.", homepage: "http://example.com/gitlabhq/gitlab-test" },
  object_attributes: {
    id: 99,
    iid: 1,
    target_branch: "master",
    source_branch: "ms-viewport",
    source_project_id: 14,
    author_id: 51,
    assignee_ids: [6],
    assignee_id: 6,
    reviewer_ids: [6],
    title: "MS-Viewport",
    created_at: "2013-12-03T17:23:34Z",
    updated_at: "2013-12-03T17:23:34Z",
    last_edited_at: "2013-12-03T17:23:34Z",
    last_edited_by_id: 1,
    milestone_id: null,
    state_id: 1,
    state: "opened",
    blocking_discussions_resolved: true,
    work_in_progress: false,
    draft: false,
    first_contribution: true,
    merge_status: "unchecked",
    target_project_id: 14,
    description: "",
    prepared_at: "2013-12-03T19:23:34Z",
    total_time_spent: 1800,
    time_change: 30,
    human_total_time_spent: "30m",
    human_time_change: "30s",
    human_time_estimate: "30m",
    url: "http://example.com/diaspora/merge_requests/1",
    source: AWESOME,
    target: AWESOME,
    last_commit: {
      id: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      message: "fixed readme",
      title: "Update file README.md",
      timestamp: "2012-01-03T23:36:29+02:00",
      url: "http://example.com/awesome_space/awesome_project/commits/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      author: { name: "GitLab dev user", email: "gitlabdev@dv6700.(none)" },
    },
    labels: [API_LABEL],
    action: "open",
    detailed_merge_status: "mergeable",
  },
  labels: [API_LABEL],
  changes: {
    updated_by_id: { previous: null, current: 1 },
    draft: { previous: true, current: false },
    updated_at: { previous: "2017-09-15 16:50:55 UTC", current: "2017-09-15 16:52:00 UTC" },
  },
};

/** The documentation's "Push events" example (X-Gitlab-Event: Push Hook), trimmed of its commit list. */
export const PUSH_EXAMPLE = {
  object_kind: "push",
  event_name: "push",
  before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
  after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  ref: "refs/heads/master",
  ref_protected: true,
  checkout_sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  user_id: 4,
  user_name: "John Smith",
  user_username: "jsmith",
  user_email: "john@example.com",
  project_id: 15,
  project: { ...PROJECT, id: 15 },
  commits: [],
  total_commits_count: 4,
};

/** The documentation's "Comment on a merge request" example (X-Gitlab-Event: Note Hook), trimmed. */
export const NOTE_EXAMPLE = {
  object_kind: "note",
  event_type: "note",
  user: { id: 1, name: "Administrator", username: "root", email: "admin@example.com" },
  project_id: 5,
  project: PROJECT,
  object_attributes: { id: 1244, note: "This MR needs work.", noteable_type: "MergeRequest", author_id: 1, created_at: "2015-05-17 18:21:36 UTC", updated_at: "2015-05-17 18:21:36 UTC", project_id: 5, noteable_id: 7, system: false, action: "create", url: "http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244" },
  merge_request: { id: 7, target_branch: "markdown", source_branch: "master", source_project_id: 5, author_id: 8, title: "Tempora et eos debitis quae laborum et.", created_at: "2015-03-01 20:12:53 UTC", updated_at: "2015-03-21 18:27:27 UTC", state: "opened", target_project_id: 5, iid: 1 },
};

/** The documented merge request event for merge request `iid` at `commit`, with this action, updated at `updatedAt`. */
export function mergeRequestPayload(action: string, iid: number, commit: string, updatedAt: Date, options: { fork?: boolean; labels?: string[]; authorId?: number; username?: string; oldrev?: string; project?: string } = {}): Record<string, any> {
  const payload = structuredClone(MERGE_REQUEST_EXAMPLE) as Record<string, any>;
  const attributes = payload.object_attributes;
  attributes.action = action;
  attributes.iid = iid;
  attributes.last_commit.id = commit;
  attributes.updated_at = updatedAt.toISOString();
  if (options.oldrev) attributes.oldrev = options.oldrev;
  if (options.fork) attributes.source_project_id = 77;
  if (options.authorId !== undefined) attributes.author_id = options.authorId;
  if (options.username) payload.user = { ...payload.user, id: attributes.author_id, username: options.username };
  if (options.labels) payload.labels = attributes.labels = options.labels.map((title, index) => ({ ...API_LABEL, id: 300 + index, title }));
  if (options.project) payload.project = { ...payload.project, path_with_namespace: options.project };
  return payload;
}

/** Sends a delivery the way GitLab does (JSON, the secret token in X-Gitlab-Token), through nginx to the apex. */
export async function deliverGitlab(port: number, event: string, payload: unknown, token: string | undefined, options: { id?: string; headers?: Record<string, string> } = {}): Promise<Answer & { id: string }> {
  const id = options.id ?? randomUUID();
  const answer = await request(port, {
    host: "demo.localhost",
    path: "/hooks/gitlab",
    method: "POST",
    body: JSON.stringify(payload),
    headers: { "content-type": "application/json", "x-gitlab-event": event, "idempotency-key": id, "x-gitlab-event-uuid": randomUUID(), ...(token !== undefined ? { "x-gitlab-token": token } : {}), ...options.headers },
  });
  return { ...answer, id };
}

let notes = 7000;

/** The documented merge request comment, on merge request `iid` by user `userId` with this text (a new id each). */
export function notePayload(iid: number, note: string, options: { userId?: number; username?: string; authorId?: number; action?: string; id?: number } = {}): Record<string, any> {
  const payload = structuredClone(NOTE_EXAMPLE) as Record<string, any>;
  payload.user = { ...payload.user, id: options.userId ?? 1, username: options.username ?? "root" };
  payload.object_attributes = { ...payload.object_attributes, id: options.id ?? (notes += 1), note, action: options.action ?? "create" };
  payload.merge_request = { ...payload.merge_request, iid, author_id: options.authorId ?? 8 };
  return payload;
}
