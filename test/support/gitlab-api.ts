// A stand-in for GitLab's REST API (v4) on 127.0.0.1, behind gitlab.apiUrl: records every call with its token,
// keeps notes and statuses, lists open merge requests, answers membership, and can answer the next calls with a
// refusal (a 429 with Retry-After, say).
import http from "node:http";
import type { AddressInfo } from "node:net";

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
  const failures: Array<{ status: number; headers: Record<string, string> }> = [];
  let ids = 5000;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, any>) : {};
      const url = new URL(request.url ?? "/", "http://gitlab.test");
      const method = request.method ?? "GET";
      const answer = (status: number, data: unknown, headers: Record<string, string> = {}) => {
        calls.push({ method, path: url.pathname, body, status, token: String(request.headers["private-token"] ?? "") });
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(data));
      };
      const failure = failures.shift();
      if (failure) return answer(failure.status, { message: `${failure.status} refused by the stand-in` }, failure.headers);
      const match = /^\/api\/v4\/projects\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (!match) return answer(404, { message: "404 Not Found" });
      const project = decodeURIComponent(match[1]!);
      const rest = match[2]!;
      let parts: RegExpExecArray | null;
      if (method === "POST" && /^statuses\/[0-9a-f]{40}$/.test(rest)) return answer(201, { id: (ids += 1), status: body.state, name: body.name });
      if ((parts = /^merge_requests\/(\d+)\/notes$/.exec(rest))) {
        const mergeRequest = `${project}!${parts[1]}`;
        if (method === "GET") return answer(200, [...notes].filter(([, note]) => note.mergeRequest === mergeRequest).map(([id, note]) => ({ id, body: note.body })));
        if (method === "POST") {
          const id = (ids += 1);
          notes.set(id, { mergeRequest, body: String(body.body) });
          return answer(201, { id, body: body.body });
        }
      }
      if (method === "PUT" && (parts = /^merge_requests\/(\d+)\/notes\/(\d+)$/.exec(rest))) {
        const note = notes.get(Number(parts[2]));
        if (!note || note.mergeRequest !== `${project}!${parts[1]}`) return answer(404, { message: "404 Not found" });
        note.body = String(body.body);
        return answer(200, { id: Number(parts[2]), body: note.body });
      }
      if (method === "GET" && rest === "merge_requests" && url.searchParams.get("state") === "opened") {
        const page = Number(url.searchParams.get("page") ?? "1");
        return answer(200, page === 1 ? (openMergeRequests.get(project) ?? []) : []);
      }
      if (method === "GET" && (parts = /^members\/all\/(\d+)$/.exec(rest))) {
        const level = members.get(Number(parts[1]));
        return level === undefined ? answer(404, { message: "404 Not found" }) : answer(200, { id: Number(parts[1]), access_level: level });
      }
      return answer(404, { message: "404 Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v4`,
    calls,
    notes,
    openMergeRequests,
    members,
    failNext(count, status, headers = {}) {
      for (let index = 0; index < count; index += 1) failures.push({ status, headers });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
