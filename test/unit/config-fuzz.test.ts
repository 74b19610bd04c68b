// Config fuzz: every leaf of a full config replaced by values of the wrong kind, unknown keys at every level,
// random bytes. Each bad file is refused with a ConfigError naming the key, never a crash.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";

/** Every key the product knows, with a valid value. */
const FULL = {
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
  apps: {
    hello: { image: "demo-launcher/hello:latest", port: 8080, title: "Hello", description: "A guestbook", ttl: "10m", memory: "256m", cpus: 0.5, pids: 256, env: { GREETING: "hi" }, banner: true, pool: 0, readiness: { path: "/", timeout: "60s" } },
  },
};

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Paths to every leaf (a list counts as a leaf). */
function leaves(value: Json, at: string[] = []): string[][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return Object.entries(value).flatMap(([key, child]) => leaves(child, [...at, key]));
  return [at];
}

/** Paths to every map, where an unknown key can go. */
function maps(value: Json, at: string[] = []): string[][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return [at, ...Object.entries(value).flatMap(([key, child]) => maps(child, [...at, key]))];
}

function withValue(path: string[], replacement: Json): Json {
  const copy = structuredClone(FULL) as unknown as Record<string, Json>;
  let target = copy as Record<string, Json>;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, Json>;
  target[path.at(-1)!] = replacement;
  return copy as unknown as Json;
}

/** Values of the wrong kind for a leaf whose valid value is `valid` (each must be refused). */
function wrongValuesFor(valid: Json, key: string): Json[] {
  const common: Json[] = [[1, 2], { nested: "map" }];
  if (typeof valid === "number") return [...common, "not a number", -5, true];
  if (typeof valid === "boolean") return [...common, "maybe", 3];
  if (Array.isArray(valid)) return [{ nested: "map" }, 42];
  // Text fields: free text accepts any string, so only other kinds are surely wrong; structured ones get nonsense too.
  const structured = !["title", "text", "description", "adminToken", "testCommand", "reloadCommand", "stateDir", "templatesDir", "configDir", "image", "GREETING", "network", "namespace"].includes(key);
  return structured ? [...common, "!!! nonsense ???", ""] : common;
}

function refusal(yaml: string): ConfigError | "accepted" {
  try {
    parseConfigText(yaml, "fuzz.yaml", "/srv");
    return "accepted";
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`a ${(error as Error).name} escaped the parser for:\n${yaml}\n${(error as Error).stack}`);
  }
}

describe("config fuzz", () => {
  it("accepts the full file it mutates", () => {
    expect(refusal(stringify(FULL))).toBe("accepted");
  });

  it("refuses a value of the wrong kind anywhere, naming that key", () => {
    let tried = 0;
    const unnamed: string[] = [];
    for (const path of leaves(FULL as unknown as Json)) {
      const valid = path.reduce<Json>((node, key) => (node as Record<string, Json>)[key]!, FULL as unknown as Json);
      for (const wrong of wrongValuesFor(valid, path.at(-1)!)) {
        tried += 1;
        const key = path.join(".");
        const result = refusal(stringify(withValue(path, wrong)));
        if (result === "accepted") unnamed.push(`${key} = ${JSON.stringify(wrong)} was accepted`);
        else if (!result.problems.some((problem) => problem.key === key || key.startsWith(`${problem.key}.`))) unnamed.push(`${key} = ${JSON.stringify(wrong)}: ${result.message}`);
      }
    }
    expect(unnamed).toEqual([]);
    expect(tried).toBeGreaterThan(150);
  });

  it("refuses an unknown key at every level, naming it and the allowed keys", () => {
    for (const path of maps(FULL as unknown as Json)) {
      // env and apps are maps of names the operator chooses: an extra entry there is not unknown.
      if (path.at(-1) === "env" || path.at(-1) === "apps") continue;
      const copy = structuredClone(FULL) as unknown as Record<string, Json>;
      const target = path.reduce<Record<string, Json>>((node, key) => node[key] as Record<string, Json>, copy);
      target.surprise = 1;
      const result = refusal(stringify(copy));
      const key = [...path, "surprise"].join(".");
      expect(result, key).not.toBe("accepted");
      const problem = (result as ConfigError).problems.find((entry) => entry.key === key);
      expect(problem?.message, key).toMatch(/^unknown key; allowed keys here: /);
    }
  });

  it("refuses random bytes and broken YAML with a ConfigError, never a crash", () => {
    let seed = 20261122;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ["apps:", "  hello:", "    port: ", "{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!binary ", "'", '"', "\t", "\n", "~", "0x", "1e999", "\u0000", "\uffff", "ports: {from: 9, to: 1}", "<<: *a"];
    for (let i = 0; i < 500; i += 1) {
      const text = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join("");
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))).toString("latin1");
      for (const yaml of [text, bytes]) {
        const result = refusal(yaml);
        if (result !== "accepted") expect(result.problems.filter((problem) => problem.key.length === 0 || problem.message.length === 0), JSON.stringify(yaml)).toEqual([]);
      }
    }
  });
});
