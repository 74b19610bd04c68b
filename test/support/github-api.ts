// A stand-in for GitHub's API on 127.0.0.1 (behind github.apiUrl): records every call, keeps comments, and can
// answer the next calls with a 500, a 403 with an exhausted rate limit, or a Retry-After.
import { startStandIn, type StandInAnswer } from "./stand-in-api.js";

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
  const openPulls: FakeGithubApi["openPulls"] = new Map();
  const writers = new Set<string>();
  let ids = 1000;
  const ok = (status: number, data: unknown): StandInAnswer => ({ status, data });
  const stand = await startStandIn(
    ({ method, url, body }) => {
      const path = url.pathname;
      let match: RegExpExecArray | null;
      if (method === "GET" && (match = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(path))) return ok(200, openPulls.get(match[1]!) ?? []);
      if (method === "GET" && (match = /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/.exec(path))) return writers.has(match[1]!) ? ok(200, { permission: "write" }) : undefined;
      if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) return ok(201, { token: "ghs_installation_token", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      if (method === "POST" && /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/.test(path)) return ok(201, { id: (ids += 1), state: body.state });
      if ((match = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(path))) {
        const issue = `${match[1]}#${match[2]}`;
        if (method === "GET") return ok(200, [...comments.entries()].filter(([, comment]) => comment.issue === issue).map(([id, comment]) => ({ id, body: comment.body })));
        if (method === "POST") {
          const id = (ids += 1);
          comments.set(id, { issue, body: String(body.body) });
          return ok(201, { id, body: body.body });
        }
      }
      if (method === "PATCH" && (match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path))) {
        const comment = comments.get(Number(match[1]));
        if (!comment) return undefined;
        comment.body = String(body.body);
        return ok(200, { id: Number(match[1]), body: body.body });
      }
      return undefined;
    },
    ({ method, url, body, headers }, status) => calls.push({ method, path: url.pathname, body, status, at: Date.now(), authorization: String(headers.authorization ?? "") }),
  );
  return { url: stand.url, calls, comments, openPulls, writers, failNext: stand.failNext, close: stand.close };
}
