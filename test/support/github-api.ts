// A stand-in for GitHub's API on 127.0.0.1 (behind github.apiUrl): records every call, keeps comments, and can
// answer the next calls with a 500, a 403 with an exhausted rate limit, or a Retry-After.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ApiCall {
  method: string;
  path: string;
  body: Record<string, any>;
  status: number;
  at: number;
  authorization: string;
}

export interface FakeGithubApi {
  url: string;
  calls: ApiCall[];
  comments: Map<number, { issue: string; body: string }>;
  /** What GET /repos/:o/:r/pulls answers (open pull requests), per owner/name. */
  openPulls: Map<string, Array<{ number: number; head: { sha: string; repo: { full_name: string } }; updated_at: string; labels: Array<{ name: string }>; user: { login: string } }>>;
  /** Users with write access (others are 404: not collaborators). */
  writers: Set<string>;
  /** The next `count` calls get this answer instead. */
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeGithubApi(): Promise<FakeGithubApi> {
  const calls: ApiCall[] = [];
  const comments = new Map<number, { issue: string; body: string }>();
  const failures: Array<{ status: number; headers: Record<string, string> }> = [];
  const openPulls: FakeGithubApi["openPulls"] = new Map();
  const writers = new Set<string>();
  let ids = 1000;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, any>) : {};
      const path = (request.url ?? "/").split("?")[0]!;
      const answer = (status: number, data: unknown, headers: Record<string, string> = {}) => {
        calls.push({ method: request.method ?? "GET", path, body, status, at: Date.now(), authorization: String(request.headers.authorization ?? "") });
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(data));
      };
      const failure = failures.shift();
      if (failure) return answer(failure.status, { message: "injected failure" }, failure.headers);
      let match: RegExpExecArray | null;
      if (request.method === "GET" && (match = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(path))) return answer(200, openPulls.get(match[1]!) ?? []);
      if (request.method === "GET" && (match = /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/.exec(path))) {
        return writers.has(match[1]!) ? answer(200, { permission: "write" }) : answer(404, { message: "Not Found" });
      }
      if (request.method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) return answer(201, { token: "ghs_installation_token", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      if (request.method === "POST" && /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/.test(path)) return answer(201, { id: (ids += 1), state: body.state });
      if ((match = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(path))) {
        const issue = `${match[1]}#${match[2]}`;
        if (request.method === "GET") return answer(200, [...comments.entries()].filter(([, comment]) => comment.issue === issue).map(([id, comment]) => ({ id, body: comment.body })));
        if (request.method === "POST") {
          const id = (ids += 1);
          comments.set(id, { issue, body: String(body.body) });
          return answer(201, { id, body: body.body });
        }
      }
      if (request.method === "PATCH" && (match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path))) {
        const comment = comments.get(Number(match[1]));
        if (!comment) return answer(404, { message: "Not Found" });
        comment.body = String(body.body);
        return answer(200, { id: Number(match[1]), body: body.body });
      }
      return answer(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    comments,
    openPulls,
    writers,
    failNext(count, status, headers = {}) {
      for (let i = 0; i < count; i += 1) failures.push({ status, headers });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
