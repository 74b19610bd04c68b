// HTTP probes: a GET that never throws, and whether a demo's app answers yet.
import http from "node:http";
import type { ReadinessProbe } from "../core/runtime.js";

interface GetResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A GET that never throws on network errors: undefined means "no answer". */
export function httpGet(url: string, options: { host?: string; timeoutMs?: number; maxBody?: number } = {}): Promise<GetResult | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { headers: options.host ? { host: options.host } : {}, timeout: options.timeoutMs ?? 1000, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= (options.maxBody ?? 64 * 1024)) chunks.push(chunk);
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: response.headers }));
      response.on("error", () => resolve(undefined));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}

/** Any answer below 500 means the app is up; its own 404 or login redirect still counts. */
export const httpReadinessProbe: ReadinessProbe = async (endpoint, path) => {
  const result = await httpGet(`http://${endpoint}${path}`, { timeoutMs: 2000, maxBody: 1 });
  return result !== undefined && result.status > 0 && result.status < 500;
};
