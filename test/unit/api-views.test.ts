// The API's JSON views have one definition (src/api/views.ts): no other file in src/, test/ or bench/ declares its own.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const VIEWS = path.join("src", "api", "views.ts");
/** The views' names, as views.ts exports them. */
const NAMES = [...readFileSync(VIEWS, "utf8").matchAll(/^export (?:interface|type) (\w+)/gm)].map((match) => match[1]!);
const VIEW_DECLARATION = new RegExp(`^\\s*(?:export\\s+)?(?:interface|type)\\s+(?:${NAMES.join("|")})\\b`, "m");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? (entry.name === "node_modules" ? [] : files(path.join(dir, entry.name))) : /\.(ts|mjs)$/.test(entry.name) ? [path.join(dir, entry.name)] : []));
}

describe("the API's views", () => {
  it("are declared in src/api/views.ts alone", () => {
    expect(NAMES).toEqual(expect.arrayContaining(["DemoView", "BuildView", "JobView", "SharedView", "DeliveryView"]));
    expect(VIEW_DECLARATION.test("interface BuildView {")).toBe(true);
    const elsewhere = ["src", "test", "bench"].flatMap(files).filter((file) => file !== VIEWS && VIEW_DECLARATION.test(readFileSync(file, "utf8")));
    expect(elsewhere).toEqual([]);
  });
});
