// The docs hold: README.md stays an entry page, every YAML block in the docs is a config the controller accepts,
// and every relative link points at a file that exists.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";

function pages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? pages(path.join(dir, entry.name)) : entry.name.endsWith(".md") ? [path.join(dir, entry.name)] : []));
}
const ALL = ["README.md", ...pages("docs")];

describe("the docs", () => {
  it("keep README.md an entry page of at most 150 lines", () => {
    expect(readFileSync("README.md", "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(150);
  });

  it("show only YAML the controller accepts", () => {
    const blocks = ALL.flatMap((file) => [...readFileSync(file, "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => ({ file, yaml: match[1]! })));
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const { file, yaml } of blocks) expect(() => parseConfigText(yaml, file, "/srv", { DEMO_LAUNCHER_OIDC_CLIENT_SECRET: "from-the-environment" }), file).not.toThrow();
  });

  it("run every command of the quick start in a test or in CI", () => {
    const quickStart = readFileSync("docs/getting-started/quick-start.md", "utf8");
    const commands = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((match) => match[1]!.split("\n").map((line) => line.replace(/#.*$/, "").trim()).filter(Boolean));
    // Where each one runs as a person types it: `npm start` in the system test of `up`, `npm test` as CI's command.
    const runs: Record<string, [file: string, shows: RegExp]> = {
      "npm start": ["test/system/up.test.ts", /execa\("npm", \["start"/],
      "npm test": [".ci/run", /^npm test\b/m],
    };
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      expect(runs[command], `the quick start's \`${command}\` runs in no test`).toBeDefined();
      expect(readFileSync(runs[command]![0], "utf8"), `${runs[command]![0]} does not run \`${command}\``).toMatch(runs[command]![1]);
    }
  });

  it("link only to files that exist", () => {
    const broken = ALL.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\]\(([^)\s]+)\)/g)]
        .map((match) => match[1]!)
        .filter((target) => !/^(https?:|mailto:|#)/.test(target))
        .filter((target) => !existsSync(path.join(path.dirname(file), target.split("#")[0]!)))
        .map((target) => `${file} → ${target}`),
    );
    expect(broken).toEqual([]);
  });
});
