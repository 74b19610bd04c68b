// A small client of the controller's HTTP API for the CLI's launch, ls and stop.
import type { Config } from "../config/load.js";
import { SetupError } from "../core/errors.js";
import { formatAddress } from "../nginx/render.js";

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export function controllerUrl(config: Config): string {
  const host = config.listen.host === "0.0.0.0" ? "127.0.0.1" : config.listen.host === "::" ? "::1" : config.listen.host;
  return `http://${formatAddress({ host, port: config.listen.port })}`;
}

export async function callApi(config: Config, method: string, path: string, body?: unknown, as: "json" | "text" = "json"): Promise<{ status: number; data: unknown }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (config.adminToken) headers.authorization = `Bearer ${config.adminToken}`;
  let response: Response;
  try {
    response = await fetch(`${controllerUrl(config)}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new SetupError(`the controller does not answer at ${controllerUrl(config)}`, "start it with `demo-launcher serve` or `demo-launcher up`");
  }
  const text = await response.text();
  if (as === "text" && response.status < 400) return { status: response.status, data: text };
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (response.status >= 400) {
    const detail = (data as { detail?: string } | undefined)?.detail ?? `HTTP ${response.status}`;
    throw new ApiError(detail, response.status);
  }
  return { status: response.status, data };
}
