// The config and CLI references say what the schema and the command line have: a key or command added, renamed or
// removed without its row fails here (docs/reference/config.md, docs/reference/cli.md).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { appWithState as appSchema, configSchema } from "../../src/config/schema.js";

/** The keys of the first column of a reference table, with `.x` after a full key read as a sibling of it. */
function documentedKeys(markdown: string): string[] {
  const keys: string[] = [];
  for (const row of markdown.split("\n").filter((line) => line.startsWith("| `"))) {
    let last = "";
    for (const [, key] of row.split(" | ")[0]!.matchAll(/`([^`]+)`/g)) {
      const full = key!.startsWith(".") ? `${last.slice(0, last.lastIndexOf("."))}${key}` : key!;
      keys.push(full);
      last = full;
    }
  }
  return keys;
}

const shapeKeys = (schema: unknown) => Object.keys((schema as { shape: Record<string, unknown> }).shape);
/** Documented: the key itself, something under it, or a wildcard over it (`builds.…`). */
const covered = (keys: string[], key: string) => keys.some((entry) => entry === key || entry.startsWith(`${key}.`) || (entry.endsWith(".…") && key.startsWith(entry.slice(0, -1))));

describe("the config reference", () => {
  const keys = documentedKeys(readFileSync("docs/reference/config.md", "utf8"));

  it("reads its table (the check can fail)", () => {
    expect(documentedKeys("| `apps.<name>.image`, `.port` | required | x |\n")).toEqual(["apps.<name>.image", "apps.<name>.port"]);
    expect(covered(["builds.…"], "builds.disk")).toBe(true);
    expect(covered(["apps.<name>.image"], "apps.<name>.port")).toBe(false);
  });

  it("has a row for every top-level key, every app key and every builds key, and none the schema lacks", () => {
    const wanted = [...shapeKeys(configSchema), ...shapeKeys(appSchema).map((key) => `apps.<name>.${key}`), ...shapeKeys((configSchema.shape.builds as unknown as { def: { innerType: unknown } }).def.innerType).map((key) => `builds.${key}`)];
    expect(wanted.filter((key) => !covered(keys, key))).toEqual([]);
    const tops = new Set(shapeKeys(configSchema));
    expect(keys.filter((key) => !tops.has(key.split(".")[0]!))).toEqual([]);
    const appKeys = new Set(shapeKeys(appSchema));
    expect(keys.filter((key) => key.startsWith("apps.<name>.") && !appKeys.has(key.split(".")[2]!))).toEqual([]);
  });
});

describe("the CLI reference", () => {
  it("has a row for every command, and none the CLI lacks", () => {
    const main = readFileSync("src/cli/main.ts", "utf8");
    const commands = new Set([...main.matchAll(/\.command\("([a-z-]+)"\)/g)].map((match) => match[1]!));
    const documented = new Set([...readFileSync("docs/reference/cli.md", "utf8").matchAll(/^\| `demo-launcher ([a-z-]+)/gm)].map((match) => match[1]!));
    expect(commands.size).toBeGreaterThan(10);
    expect([...commands].filter((command) => !documented.has(command))).toEqual([]);
    expect([...documented].filter((command) => !commands.has(command))).toEqual([]);
  });
});
