// A JSON API stand-in on 127.0.0.1 for the forges' fakes (github-api.ts, gitlab-api.ts): reads each request's JSON
// body, answers what the fake's routes say (404 otherwise), and can answer the next calls with a refusal instead.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInRequest {
  method: string;
  url: URL;
  body: Record<string, any>;
  headers: http.IncomingHttpHeaders;
}

export interface StandInAnswer {
  status: number;
  data: unknown;
  headers?: Record<string, string>;
}

export interface StandIn {
  url: string;
  /** The next `count` calls get this answer instead (a 500, a 429 with Retry-After, an exhausted rate limit). */
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

/** `route` answers a request (undefined: 404); `record` sees every request with the answer it got. */
export async function startStandIn(route: (request: StandInRequest) => StandInAnswer | undefined, record: (request: StandInRequest, status: number) => void): Promise<StandIn> {
  const failures: StandInAnswer[] = [];
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const request: StandInRequest = { method: incoming.method ?? "GET", url: new URL(incoming.url ?? "/", "http://stand-in.test"), body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: incoming.headers };
      const answer = failures.shift() ?? route(request) ?? { status: 404, data: { message: "404 Not Found" } };
      record(request, answer.status);
      response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      response.end(JSON.stringify(answer.data));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNext(count, status, headers = {}) {
      for (let index = 0; index < count; index += 1) failures.push({ status, data: { message: `${status} refused by the stand-in` }, headers });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
