// GitLab's side of ForgeApi through its REST API (v4, gitlab.com or `gitlab.apiUrl` for a self-managed instance),
// authenticated by a token in PRIVATE-TOKEN: commit statuses, merge request notes, open merge requests, membership.
import { ForgeHttpError, type ForgeApi, type OpenChange, type StatusState } from "../forge-api.js";

const CONTEXT = "demo-launcher/preview";
const MAX_PAGES = 10;
const TIMEOUT_MS = 15_000;
/** GitLab's Developer role: the lowest that may push. */
const DEVELOPER = 30;
/** GitLab's commit status words for ours. */
const STATES: Record<StatusState, string> = { pending: "pending", success: "success", failure: "failed", error: "failed" };

interface MergeRequest {
  iid: number;
  sha: string;
  source_project_id: number;
  target_project_id: number;
  updated_at: string;
  labels?: unknown[];
  author?: { id?: number; username?: string } | null;
}

export class GitlabApi implements ForgeApi {
  readonly forge = "gitlab" as const;
  private readonly base: string;

  constructor(apiUrl: string, private readonly token: string) {
    this.base = apiUrl.replace(/\/+$/, "");
  }

  async setStatus(repo: string, commit: string, state: StatusState, description: string, targetUrl?: string): Promise<void> {
    await this.call("POST", `${project(repo)}/statuses/${commit}`, { state: STATES[state], name: CONTEXT, description: description.slice(0, 255), ...(targetUrl ? { target_url: targetUrl } : {}) });
  }

  async findComment(repo: string, change: number, marker: string): Promise<number | undefined> {
    const notes = (await this.call("GET", `${project(repo)}/merge_requests/${change}/notes?per_page=100&sort=asc`)) as Array<{ id: number; body?: string }>;
    return notes.find((note) => note.body?.includes(marker))?.id;
  }

  async createComment(repo: string, change: number, body: string): Promise<number> {
    return ((await this.call("POST", `${project(repo)}/merge_requests/${change}/notes`, { body })) as { id: number }).id;
  }

  async editComment(repo: string, change: number, id: number, body: string): Promise<void> {
    await this.call("PUT", `${project(repo)}/merge_requests/${change}/notes/${id}`, { body });
  }

  async openChanges(repo: string): Promise<OpenChange[]> {
    const changes: OpenChange[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const list = (await this.call("GET", `${project(repo)}/merge_requests?state=opened&per_page=100&page=${page}`)) as MergeRequest[];
      for (const request of list) {
        if (typeof request.iid !== "number" || !/^[0-9a-f]{40}$/.test(request.sha ?? "")) continue;
        const updatedAt = Date.parse(request.updated_at);
        const labels = (request.labels ?? []).flatMap((label) => (typeof label === "string" ? [label] : []));
        changes.push({ number: request.iid, commit: request.sha, updatedAt: Number.isFinite(updatedAt) ? updatedAt : 0, fork: request.source_project_id !== request.target_project_id, labels, author: request.author?.username ?? "", ...(typeof request.author?.id === "number" ? { authorId: request.author.id } : {}) });
      }
      if (list.length < 100) break;
    }
    return changes;
  }

  async canPush(repo: string, user: { name: string; id?: number }): Promise<boolean | undefined> {
    if (user.id === undefined) return undefined;
    try {
      // members/all: inherited from groups too, as GitLab decides who may push.
      const member = (await this.call("GET", `${project(repo)}/members/all/${user.id}`)) as { access_level?: number };
      return (member.access_level ?? 0) >= DEVELOPER;
    } catch (error) {
      return (error as { status?: number }).status === 404 ? false : undefined;
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.base}/${path}`, {
      method,
      headers: { "private-token": this.token, "user-agent": "demo-launcher", accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new ForgeHttpError(response.status, `GitLab answered ${method} ${path.split("?")[0]} with ${response.status}: ${text.slice(0, 200)}`, Object.fromEntries(response.headers));
    return text ? JSON.parse(text) : undefined;
  }
}

/** A project in a path: its full path, URL-encoded (GitLab takes `group%2Fsub%2Fproject` for the id). */
function project(repo: string): string {
  return `projects/${encodeURIComponent(repo)}`;
}
