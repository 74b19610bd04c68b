// A stand-in for GitLab's REST API (v4) on 127.0.0.1, behind gitlab.apiUrl: records every call with its token,
// keeps notes and statuses, lists open merge requests, answers membership, and can answer the next calls with a
// refusal (a 429 with Retry-After, say).
import { startStandIn, type StandInAnswer } from "./stand-in-api.js";

export interface GitlabCall {
  method: string;
  /** The path as sent, the project's id still URL-encoded (`/api/v4/projects/group%2Fproject/…`). */
  path: string;
  body: Record<string, any>;
  status: number;
  token: string;
}

export interface OpenMergeRequest {
  iid: number;
  sha: string;
  source_project_id: number;
  target_project_id: number;
  updated_at: string;
  labels: string[];
  author: { id: number; username: string };
}

export interface FakeGitlabApi {
  url: string;
  calls: GitlabCall[];
  /** Notes by id: which merge request (`<project>!<iid>`) and their body. */
  notes: Map<number, { mergeRequest: string; body: string }>;
  /** What GET /projects/:id/merge_requests?state=opened answers, per project path. */
  openMergeRequests: Map<string, OpenMergeRequest[]>;
  /** Members' access levels by user id (others are 404). */
  members: Map<number, number>;
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeGitlabApi(): Promise<FakeGitlabApi> {
  const calls: GitlabCall[] = [];
  const notes = new Map<number, { mergeRequest: string; body: string }>();
  const openMergeRequests: FakeGitlabApi["openMergeRequests"] = new Map();
  const members = new Map<number, number>();
  let ids = 5000;
  const ok = (status: number, data: unknown): StandInAnswer => ({ status, data });
  const stand = await startStandIn(
    ({ method, url, body }) => {
      const match = /^\/api\/v4\/projects\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (!match) return undefined;
      const project = decodeURIComponent(match[1]!);
      const rest = match[2]!;
      let parts: RegExpExecArray | null;
      if (method === "POST" && /^statuses\/[0-9a-f]{40}$/.test(rest)) return ok(201, { id: (ids += 1), status: body.state, name: body.name });
      if ((parts = /^merge_requests\/(\d+)\/notes$/.exec(rest))) {
        const mergeRequest = `${project}!${parts[1]}`;
        if (method === "GET") return ok(200, [...notes].filter(([, note]) => note.mergeRequest === mergeRequest).map(([id, note]) => ({ id, body: note.body })));
        if (method === "POST") {
          const id = (ids += 1);
          notes.set(id, { mergeRequest, body: String(body.body) });
          return ok(201, { id, body: body.body });
        }
      }
      if (method === "PUT" && (parts = /^merge_requests\/(\d+)\/notes\/(\d+)$/.exec(rest))) {
        const note = notes.get(Number(parts[2]));
        if (!note || note.mergeRequest !== `${project}!${parts[1]}`) return undefined;
        note.body = String(body.body);
        return ok(200, { id: Number(parts[2]), body: note.body });
      }
      if (method === "GET" && rest === "merge_requests" && url.searchParams.get("state") === "opened") return ok(200, Number(url.searchParams.get("page") ?? "1") === 1 ? (openMergeRequests.get(project) ?? []) : []);
      if (method === "GET" && (parts = /^members\/all\/(\d+)$/.exec(rest))) {
        const level = members.get(Number(parts[1]));
        return level === undefined ? undefined : ok(200, { id: Number(parts[1]), access_level: level });
      }
      return undefined;
    },
    ({ method, url, body, headers }, status) => calls.push({ method, path: url.pathname, body, status, token: String(headers["private-token"] ?? "") }),
  );
  return { url: `${stand.url}/api/v4`, calls, notes, openMergeRequests, members, failNext: stand.failNext, close: stand.close };
}
