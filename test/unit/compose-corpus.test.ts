// Public Compose files (Docker's awesome-compose, CC0) through our reader: each accepted or refused with the reason, none crashing it; the outcomes are pinned.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { folderFiles, readCompose } from "../../src/compose/load.js";
import { DEFAULT_CAPABILITIES } from "../../src/core/app-spec.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

const CORPUS = path.join(PACKAGE_ROOT, "test", "fixtures", "compose-corpus");
const OUTCOMES = path.join(CORPUS, "outcomes.json");

describe("a corpus of public Compose files", () => {
  it("reads every file to an outcome, accepted or refused with the reason, as pinned in outcomes.json", async () => {
    const outcomes: Record<string, string> = {};
    for (const collection of (await readdir(CORPUS, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
      for (const sample of (await readdir(path.join(CORPUS, collection.name), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()) {
        const folder = path.join(CORPUS, collection.name, sample);
        const file = (await readdir(folder)).find((name) => /^(docker-)?compose\.ya?ml$/.test(name))!;
        // Each sample is a project; a throw here (rather than a refusal) fails the test with the file named.
        const reading = await readCompose({ files: folderFiles(folder), file, variables: {}, capabilities: DEFAULT_CAPABILITIES, platform: "linux/amd64" }).catch((error: Error) => {
          throw new Error(`${collection.name}/${sample}/${file} crashed the reader: ${error.stack}`);
        });
        outcomes[`${collection.name}/${sample}`] = reading.ok ? `accepted: ${reading.environment.services.length} services, routed ${reading.environment.routes.map((route) => `${route.service}:${route.port}`).join(", ")}` : `refused: ${reading.problems.join(" | ")}`;
      }
    }
    const accepted = Object.values(outcomes).filter((outcome) => outcome.startsWith("accepted")).length;
    console.log(`compose corpus: ${accepted} of ${Object.keys(outcomes).length} files accepted\n${Object.entries(outcomes).map(([file, outcome]) => `  ${file}: ${outcome}`).join("\n")}`);
    if (process.env.UPDATE_COMPOSE_CORPUS === "1") await writeFile(OUTCOMES, `${JSON.stringify(outcomes, null, 2)}\n`);
    expect(outcomes).toEqual(JSON.parse(await readFile(OUTCOMES, "utf8")));
    // Every refusal says what and where, never an empty or generic line.
    for (const outcome of Object.values(outcomes)) if (outcome.startsWith("refused")) expect(outcome).toMatch(/^refused: [^|]+\.ya?ml: \S/);
  });
});
