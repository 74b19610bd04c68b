// Our Compose interpolation beside Debian's docker-compose 1.29 (`docker-compose config`) as an oracle, on every form where v1 agrees with the specification.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { folderFiles, readCompose } from "../../src/compose/load.js";
import { DEFAULT_CAPABILITIES } from "../../src/core/app-spec.js";

// Where v1 departs from the specification, the specification wins and the unit tests hold it: a lone "$" (v1
// refuses it, the spec keeps it), nested defaults such as ${A:-${B}} (v1 leaves them as text), ${A:+x} and ${A+x}
// (v1 refuses them).
const CASES: Record<string, string> = {
  PLAIN: "$SET",
  BRACED: "${SET}",
  AROUND: "pre-${SET}-post",
  DOTTED: "$SET.suffix",
  UNSET_DEFAULT: "${UNSET:-fallback}",
  EMPTY_COLON_DEFAULT: "${EMPTY:-fallback}",
  EMPTY_DASH_DEFAULT: "${EMPTY-fallback}",
  UNSET_DASH_DEFAULT: "${UNSET-fallback}",
  SET_DEFAULT: "${SET:-fallback}",
  REQUIRED_SET: "${SET:?must be set}",
  EMPTY_QUESTION: "${EMPTY?must exist}",
  ESCAPED: "$$SET and $${SET}",
  UNSET_PLAIN: "a${UNSET}b",
  FROM_DOTENV: "${ONLY_IN_DOTENV}",
  DOTENV_LOSES: "${IN_BOTH}",
  SPACES: "${UNSET:-with spaces: and colons}",
};

describe("Compose interpolation against docker-compose 1.29", () => {
  let dir: string;

  beforeAll(async () => {
    const found = await execa("docker-compose", ["version", "--short"], { reject: false }).catch(() => undefined);
    if (!found || found.exitCode !== 0) throw new Error("This test needs Debian's docker-compose (1.29) as its oracle. Run scripts/ensure-host.sh --browser (npm test does).");
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-compose-oracle-"));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const variables = { SET: "value", EMPTY: "", IN_BOTH: "from-the-environment" };
  // docker-compose reads its process environment; it must see exactly these and nothing of ours.
  const oracleEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...variables };

  async function oracle(compose: string): Promise<{ ok: true; config: { services: Record<string, { environment?: Record<string, string>; image?: string; ports?: unknown[] }> } } | { ok: false; message: string }> {
    await writeFile(path.join(dir, "compose.yaml"), compose);
    const result = await execa("docker-compose", ["--project-directory", dir, "-f", path.join(dir, "compose.yaml"), "config"], { reject: false, env: oracleEnv, extendEnv: false, cwd: dir });
    return result.exitCode === 0 ? { ok: true, config: parse(result.stdout) } : { ok: false, message: result.stderr };
  }

  const ours = () => readCompose({ files: folderFiles(dir), file: "compose.yaml", variables, capabilities: DEFAULT_CAPABILITIES });

  it("interpolates every case as docker-compose does, with the .env beside the file below the environment", async () => {
    await writeFile(path.join(dir, ".env"), "ONLY_IN_DOTENV=from-dotenv\nIN_BOTH=from-dotenv\n");
    const environment = Object.entries(CASES).map(([key, value]) => `      ${key}: ${JSON.stringify(value)}`).join("\n");
    const compose = `services:\n  web:\n    image: "app:\${SET}"\n    ports: ["\${PORT:-8080}:80"]\n    environment:\n${environment}\n`;
    const expected = await oracle(compose);
    if (!expected.ok) throw new Error(`docker-compose refused the cases: ${expected.message}`);
    const reading = await ours();
    if (!reading.ok) throw new Error(reading.problems.join("\n"));
    const web = reading.environment.services[0]!;
    // docker-compose 1.29 prints a literal $ of its output doubled (it re-escapes for its own config format).
    const oracleEnvironment = Object.fromEntries(Object.entries(expected.config.services.web!.environment ?? {}).map(([key, value]) => [key, String(value).replace(/\$\$/g, "$")]));
    expect(web.env).toEqual(oracleEnvironment);
    expect(web.image).toBe(expected.config.services.web!.image);
    expect(Object.keys(web.env)).toHaveLength(Object.keys(CASES).length);
  });

  it("refuses a missing required variable as docker-compose does, with its message", async () => {
    const compose = 'services:\n  web:\n    image: "app:${TAG:?set TAG to a release}"\n    ports: ["80"]\n';
    const expected = await oracle(compose);
    expect(expected.ok).toBe(false);
    if (!expected.ok) expect(expected.message).toContain("set TAG to a release");
    const reading = await ours();
    expect(reading).toEqual({ ok: false, problems: ["compose.yaml: services.web.image: required variable TAG is missing a value: set TAG to a release"] });
  });

  it("refuses an invalid format as docker-compose does", async () => {
    const compose = 'services:\n  web:\n    image: "app:${TAG"\n    ports: ["80"]\n';
    const expected = await oracle(compose);
    expect(expected.ok).toBe(false);
    if (!expected.ok) expect(expected.message).toContain("Invalid interpolation format");
    const reading = await ours();
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problems.join("\n")).toContain("services.web.image: invalid interpolation format");
  });
});
