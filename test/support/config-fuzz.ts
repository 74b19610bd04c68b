// Bad config files made from a full, valid one: used by config-fuzz.test.ts and by the fault suite.
import { stringify } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";

/** Every key the product knows, with a valid value. */
export const FULL = {
  domain: "demo.example.org",
  listen: "127.0.0.1:8081",
  namespace: "prod",
  idLength: 10,
  publicScheme: "https",
  publicPort: 443,
  stateDir: "/var/lib/demo-launcher/state",
  network: "demo-launcher",
  adminToken: "a-long-enough-admin-token-for-tests",
  trustedProxies: ["127.0.0.1"],
  reaper: { interval: "1s" },
  nginx: { listen: "127.0.0.1:8080", configDir: "/var/lib/demo-launcher/nginx", controller: "127.0.0.1:8081", probeUrl: "http://127.0.0.1:8080", testCommand: "nginx -t", reloadCommand: "nginx -s reload", debounce: "100ms" },
  ports: { from: 20000, to: 29999 },
  limits: { maxDemos: 50, perClient: 1, queueLength: 20, launchesPerClient: 10, launchWindow: "10m" },
  allowedOrigins: ["https://www.example.org"],
  templatesDir: "/etc/demo-launcher/templates",
  brand: { title: "Try it", text: "Your own copy", accentColor: "#3355ff", backgroundColor: "#ffffff" },
  previews: {
    web: { repo: "https://git.example.org/acme/web.git", dockerfile: "Dockerfile", context: ".", port: 3000, memory: "512m", cpus: 1, pids: 512, env: { NODE_ENV: "production" }, readiness: { path: "/health", timeout: "2m" }, refresh: "5m", idleStop: "30m", keep: "7d" },
  },
  builds: { concurrency: 2, timeout: "15m", queueLength: 50 },
  apps: {
    hello: { image: "demo-launcher/hello:latest", port: 8080, title: "Hello", description: "A guestbook", ttl: "10m", memory: "256m", cpus: 0.5, pids: 256, env: { GREETING: "hi" }, banner: true, pool: 0, readiness: { path: "/", timeout: "60s" } },
  },
};

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Paths to every leaf (a list counts as a leaf). */
export function leaves(value: Json, at: string[] = []): string[][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return Object.entries(value).flatMap(([key, child]) => leaves(child, [...at, key]));
  return [at];
}

/** Paths to every map, where an unknown key can go. */
export function maps(value: Json, at: string[] = []): string[][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return [at, ...Object.entries(value).flatMap(([key, child]) => maps(child, [...at, key]))];
}

export function withValue(path: string[], replacement: Json): Json {
  const copy = structuredClone(FULL) as unknown as Record<string, Json>;
  let target = copy as Record<string, Json>;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, Json>;
  target[path.at(-1)!] = replacement;
  return copy as unknown as Json;
}

/** Values of the wrong kind for a leaf whose valid value is `valid` (each must be refused). */
export function wrongValuesFor(valid: Json, key: string): Json[] {
  const common: Json[] = [[1, 2], { nested: "map" }];
  if (typeof valid === "number") return [...common, "not a number", -5, true];
  if (typeof valid === "boolean") return [...common, "maybe", 3];
  if (Array.isArray(valid)) return [{ nested: "map" }, 42];
  // Text fields: free text accepts any string, so only other kinds are surely wrong; structured ones get nonsense too.
  const structured = !["title", "text", "description", "adminToken", "testCommand", "reloadCommand", "stateDir", "templatesDir", "configDir", "image", "GREETING", "NODE_ENV", "network", "namespace", "repo", "dockerfile", "context"].includes(key);
  return structured ? [...common, "!!! nonsense ???", ""] : common;
}

/** Every wrong-kind mutation of FULL: the key it touches and the file. */
export function wrongKindFiles(): Array<{ key: string; value: Json; yaml: string }> {
  const files: Array<{ key: string; value: Json; yaml: string }> = [];
  for (const path of leaves(FULL as unknown as Json)) {
    const valid = path.reduce<Json>((node, key) => (node as Record<string, Json>)[key]!, FULL as unknown as Json);
    for (const value of wrongValuesFor(valid, path.at(-1)!)) files.push({ key: path.join("."), value, yaml: stringify(withValue(path, value)) });
  }
  return files;
}

/** An unknown key added to every map of FULL (not under env or apps, whose keys are the operator's). */
export function unknownKeyFiles(): Array<{ key: string; yaml: string }> {
  return maps(FULL as unknown as Json)
    .filter((path) => path.at(-1) !== "env" && path.at(-1) !== "apps" && path.at(-1) !== "previews")
    .map((path) => {
      const copy = structuredClone(FULL) as unknown as Record<string, Json>;
      const target = path.reduce<Record<string, Json>>((node, key) => node[key] as Record<string, Json>, copy);
      target.surprise = 1;
      return { key: [...path, "surprise"].join("."), yaml: stringify(copy) };
    });
}

/** The parser's verdict: "accepted" or its ConfigError. Anything else thrown is a crash and is rethrown. */
export function refusal(yaml: string): ConfigError | "accepted" {
  try {
    parseConfigText(yaml, "fuzz.yaml", "/srv");
    return "accepted";
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`a ${(error as Error).name} escaped the parser for:\n${yaml}\n${(error as Error).stack}`);
  }
}

/** True when the refusal names the key (or the map holding it). */
export function namesKey(error: ConfigError, key: string): boolean {
  return error.problems.some((problem) => problem.key === key || key.startsWith(`${problem.key}.`));
}
