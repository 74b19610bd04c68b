// Hostile and malformed HTTP requests, as a table: used by bad-input.test.ts and by the fault suite.
import net from "node:net";
import { request as httpRequest, type Answer } from "./stack.js";

/** Sends bytes as they are (malformed requests Node's client refuses to make) and reads the answer. */
export function rawRequest(port: number, bytes: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
    // Written without a half-close: nginx takes a client's FIN as "gone" and would not answer.
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body: rest.join("\r\n\r\n") });
    });
  });
}

export interface Case {
  name: string;
  /** A request Node can send... */
  method?: string;
  path?: string;
  host?: string;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
  /** ...or raw bytes for the ones it cannot. */
  raw?: string | Buffer;
  /** The answer comes from in front of the routes (nginx's limits and path normalising, Node's parser): not over inject. */
  beforeRoutes?: true;
  status: number;
  detail?: RegExp;
}

const json = "application/json";
const form = "application/x-www-form-urlencoded";
const request = (lines: string[], body = "") => `${lines.join("\r\n")}\r\n\r\n${body}`;

export const BAD_REQUESTS: Case[] = [
  // Malformed JSON and wrong shapes
  { name: "truncated JSON", method: "POST", path: "/api/demos", type: json, body: '{"app":', status: 400 },
  { name: "unclosed object", method: "POST", path: "/api/demos", type: json, body: '{"app":"hello"', status: 400 },
  { name: "empty JSON body", method: "POST", path: "/api/demos", type: json, body: "", status: 400 },
  { name: "JSON null", method: "POST", path: "/api/demos", type: json, body: "null", status: 400 },
  { name: "JSON string", method: "POST", path: "/api/demos", type: json, body: '"hello"', status: 400 },
  { name: "JSON true", method: "POST", path: "/api/demos", type: json, body: "true", status: 400 },
  { name: "deeply nested JSON", method: "POST", path: "/api/demos", type: json, body: `${"[".repeat(5000)}${"]".repeat(5000)}`, status: 400 },
  { name: "__proto__ pollution", method: "POST", path: "/api/demos", type: json, body: '{"__proto__":{"app":"hello"}}', status: 400, detail: /^The JSON body has a "__proto__" or "constructor\.prototype" key; such keys are refused/ },
  { name: "constructor pollution", method: "POST", path: "/api/demos", type: json, body: '{"constructor":{"prototype":{"app":"hello"}}}', status: 400, detail: /^The JSON body has a "__proto__" or "constructor\.prototype" key/ },
  { name: "invalid UTF-8", raw: Buffer.concat([Buffer.from(request(["POST /api/demos HTTP/1.1", "Host: demo.localhost", "Content-Type: application/json", "Content-Length: 11", "Connection: close"])), Buffer.from([0x7b, 0x22, 0x61, 0x70, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x7d])]), status: 400 },
  { name: "JSON sent as text/plain", method: "POST", path: "/api/demos", type: "text/plain", body: '{"app":"hello"}', status: 415 },
  // Wrong types
  { name: "app is an object", method: "POST", path: "/api/demos", type: json, body: '{"app":{"name":"hello"}}', status: 400, detail: /must be one name, not a object|must be one name/ },
  { name: "app is null", method: "POST", path: "/api/demos", type: json, body: '{"app":null}', status: 400, detail: /not null/ },
  { name: "app is a boolean", method: "POST", path: "/api/demos", type: json, body: '{"app":true}', status: 400 },
  { name: "app is a number", method: "POST", path: "/api/demos", type: json, body: '{"app":1e999}', status: 400 },
  { name: "extra field", method: "POST", path: "/api/demos", type: json, body: '{"app":"hello","ttl":"99d"}', status: 400, detail: /Unknown field "ttl"; allowed: app/ },
  // Huge bodies
  { name: "JSON over the controller's limit", method: "POST", path: "/api/demos", type: json, body: JSON.stringify({ app: "x".repeat(40_000) }), status: 413 },
  { name: "form over the controller's limit", method: "POST", path: "/launch", type: form, body: `app=${"x".repeat(8000)}`, status: 413 },
  { name: "body over nginx's limit", method: "POST", path: "/api/demos", type: json, body: "x".repeat(11 * 1024 * 1024), status: 413 },
  // Unknown apps
  { name: "unknown app", method: "POST", path: "/api/demos", type: json, body: '{"app":"nope"}', status: 400, detail: /"nope" is not an app here; allowed: hello/ },
  { name: "empty app name", method: "POST", path: "/api/demos", type: json, body: '{"app":""}', status: 400 },
  { name: "app name with another case", method: "POST", path: "/api/demos", type: json, body: '{"app":"HELLO"}', status: 400 },
  { name: "app name with a path", method: "POST", path: "/api/demos", type: json, body: '{"app":"../hello"}', status: 400 },
  { name: "app name with NUL", method: "POST", path: "/api/demos", type: json, body: '{"app":"hello\\u0000"}', status: 400 },
  { name: "inherited property as app", method: "POST", path: "/api/demos", type: json, body: '{"app":"toString"}', status: 400 },
  { name: "form with an unknown app", method: "POST", path: "/launch", type: form, body: "app=%C3%A9t%C3%A9", status: 400 },
  { name: "form without app", method: "POST", path: "/launch", type: form, body: "", status: 400 },
  // Ids with path tricks
  { name: "encoded traversal", method: "GET", path: "/api/demos/..%2F..%2Fetc%2Fpasswd", status: 400 },
  { name: "NUL in an id", method: "GET", path: "/api/demos/abcdefgh%00", status: 400 },
  { name: "dots as an id", method: "GET", path: "/api/demos/%2e%2e", status: 400, beforeRoutes: true },
  { name: "upper-case id", method: "GET", path: "/api/demos/ABCDEFGH", status: 400 },
  { name: "semicolon in an id", method: "GET", path: "/api/demos/abcdefgh;x=1", status: 400 },
  { name: "unknown id", method: "GET", path: "/api/demos/zzzzzzzz", status: 404 },
  { name: "stop without the admin token", method: "DELETE", path: "/api/demos/zzzzzzzz", status: 401 },
  { name: "list with a wrong token", method: "GET", path: "/api/demos", headers: { authorization: "Bearer guess" }, status: 401 },
  { name: "status page of an unknown demo", method: "GET", path: "/__demo/status.json", host: "zzzzzzzz.demo.localhost", status: 404 },
  // Spoofed or malformed Host
  { name: "foreign Host", method: "GET", path: "/", host: "evil.example", status: 421 },
  { name: "our name inside a foreign one", method: "POST", path: "/api/demos", host: "demo.localhost.evil.example", type: json, body: '{"app":"hello"}', status: 421 },
  { name: "Host by IP through nginx", method: "GET", path: "/api/demos", host: "127.0.0.1", status: 421 },
  { name: "deeper subdomain", method: "GET", path: "/", host: "a.abcdefgh.demo.localhost", status: 421 },
  { name: "Host with a space", raw: request(["GET / HTTP/1.1", "Host: demo localhost", "Connection: close"]), status: 400 },
  { name: "empty Host", raw: request(["GET / HTTP/1.1", "Host:", "Connection: close"]), status: 400 },
  { name: "two Host headers", raw: request(["GET / HTTP/1.1", "Host: demo.localhost", "Host: evil.example", "Connection: close"]), status: 400 },
  { name: "no Host in HTTP/1.1", raw: request(["GET / HTTP/1.1", "Connection: close"]), status: 400 },
  // Header injection and smuggling
  { name: "CRLF in the path", raw: request(["GET /nowhere%0d%0aSet-Cookie:%20injected=1 HTTP/1.1", "Host: demo.localhost", "Connection: close"]), status: 404 },
  { name: "bare LF header folding", raw: request(["GET / HTTP/1.1", "Host: demo.localhost", "X-Real-IP: 1.2.3.4", " folded: yes", "Connection: close"]), status: 400 },
  { name: "Content-Length with Transfer-Encoding", raw: request(["POST /api/demos HTTP/1.1", "Host: demo.localhost", "Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked", "Connection: close"], "0\r\n\r\n"), status: 400 },
  { name: "two Content-Lengths", raw: request(["POST /api/demos HTTP/1.1", "Host: demo.localhost", "Content-Type: application/json", "Content-Length: 2", "Content-Length: 15", "Connection: close"], "{}"), status: 400 },
  { name: "headers too large", method: "GET", path: "/", headers: { cookie: "c".repeat(20_000) }, status: 400, beforeRoutes: true },
  { name: "URI too long", method: "GET", path: `/?${"q".repeat(20_000)}`, status: 414, beforeRoutes: true },
  { name: "garbage request line", raw: "HELLO THERE\r\n\r\n", status: 400 },
  { name: "unknown method", method: "BREW", path: "/api/demos", status: 400, beforeRoutes: true },
  { name: "launch by GET", method: "GET", path: "/launch?app=hello", status: 404 },
  { name: "launch from another site", method: "POST", path: "/launch", type: form, body: "app=hello", headers: { origin: "http://evil.example" }, status: 403 },
  { name: "launch from a null origin", method: "POST", path: "/api/demos", type: json, body: '{"app":"hello"}', headers: { origin: "null" }, status: 403 },
];

/** Sends one case through nginx at this port. */
export function send(port: number, testCase: Case): Promise<Answer> {
  if (testCase.raw) return rawRequest(port, testCase.raw);
  return httpRequest(port, {
    host: testCase.host ?? "demo.localhost",
    path: testCase.path ?? "/",
    method: testCase.method ?? "GET",
    headers: { ...(testCase.type ? { "content-type": testCase.type } : {}), ...(testCase.headers ?? {}) },
    ...(testCase.body !== undefined ? { body: testCase.body } : {}),
  });
}

/** Why an answer is not the expected problem+json, or undefined when it is. */
export function wrongAnswer(testCase: Case, answer: Answer): string | undefined {
  if (answer.status !== testCase.status) return `status ${answer.status}, not ${testCase.status}`;
  if (!/^application\/problem\+json/.test(String(answer.headers["content-type"]))) return `content-type ${answer.headers["content-type"]}`;
  let problem: { status?: number; title?: string; detail?: string };
  try {
    problem = JSON.parse(answer.body) as typeof problem;
  } catch {
    return "a body that is not JSON";
  }
  if (problem.status !== testCase.status || !problem.title) return "a problem without its status or title";
  if (testCase.detail && !testCase.detail.test(problem.detail ?? "")) return `detail ${JSON.stringify(problem.detail)}`;
  if (answer.headers["set-cookie"] !== undefined) return "a Set-Cookie header";
  return undefined;
}
