// GitHub's side of ForgeApi through Octokit: commit statuses under one context, issue comments on pull requests,
// the open pull requests and a collaborator's permission.
import type { Octokit } from "@octokit/core";
import type { ForgeApi, OpenChange, StatusState } from "../forge-api.js";

const CONTEXT = "demo-launcher/preview";
const MAX_PAGES = 10;

interface OpenPull {
  number: number;
  head: { sha: string; repo?: { full_name?: string } | null };
  updated_at: string;
  labels?: Array<{ name?: string }>;
  user?: { login?: string } | null;
}

function split(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split("/") as [string, string];
  return { owner, repo: name };
}

export class GithubApi implements ForgeApi {
  readonly forge = "github" as const;

  constructor(private readonly octokit: Octokit) {}

  async setStatus(repo: string, commit: string, state: StatusState, description: string, targetUrl?: string): Promise<void> {
    await this.octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", { ...split(repo), sha: commit, state, context: CONTEXT, description: description.slice(0, 140), ...(targetUrl ? { target_url: targetUrl } : {}) });
  }

  async findComment(repo: string, change: number, marker: string): Promise<number | undefined> {
    const { data } = await this.octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...split(repo), issue_number: change, per_page: 100 });
    return (data as Array<{ id: number; body?: string }>).find((comment) => comment.body?.includes(marker))?.id;
  }

  async createComment(repo: string, change: number, body: string): Promise<number> {
    const { data } = await this.octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...split(repo), issue_number: change, body });
    return (data as { id: number }).id;
  }

  async editComment(repo: string, _change: number, id: number, body: string): Promise<void> {
    await this.octokit.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", { ...split(repo), comment_id: id, body });
  }

  async openChanges(repo: string): Promise<OpenChange[]> {
    const changes: OpenChange[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const { data } = await this.octokit.request("GET /repos/{owner}/{repo}/pulls", { ...split(repo), state: "open", per_page: 100, page });
      const list = data as OpenPull[];
      for (const pull of list) {
        if (typeof pull.number !== "number" || !/^[0-9a-f]{40}$/.test(pull.head?.sha ?? "")) continue;
        const updatedAt = Date.parse(pull.updated_at);
        changes.push({ number: pull.number, commit: pull.head.sha, updatedAt: Number.isFinite(updatedAt) ? updatedAt : 0, fork: pull.head.repo?.full_name !== repo, labels: (pull.labels ?? []).flatMap((label) => (label.name ? [label.name] : [])), author: pull.user?.login ?? "" });
      }
      if (list.length < 100) break;
    }
    return changes;
  }

  async canPush(repo: string, user: { name: string }): Promise<boolean | undefined> {
    if (!user.name) return undefined;
    try {
      const { data } = await this.octokit.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", { ...split(repo), username: user.name });
      return ["admin", "maintain", "write"].includes(String((data as { permission?: string }).permission));
    } catch (error) {
      // 404: not a collaborator at all. Anything else: GitHub did not answer, and nothing is built on a guess.
      return (error as { status?: number }).status === 404 ? false : undefined;
    }
  }
}
