// Preview builds from the CLI on a real stack (git over file://, Docker builds); the builds API's answers are
// checked over HTTP on scripted builds (test/http/previews.test.ts).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { CLI, startStack, type Stack } from "../support/stack.js";

const SOURCE = `s${Math.random().toString(36).slice(2, 8)}`;

describe("preview builds over HTTP and the CLI (real stack)", () => {
  let root: string;
  let stack: Stack;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-builds-api-"));
    const work = path.join(root, "repo");
    await mkdir(work, { recursive: true });
    await copyFile("/bin/busybox", path.join(work, "busybox"));
    await writeFile(path.join(work, "index.html"), "preview\n");
    await writeFile(path.join(work, "Dockerfile"), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: work });
    await git(["init", "-q", "-b", "main"]);
    await git(["add", "."]);
    await git(["commit", "-q", "-m", "first"]);
    stack = await startStack({ extraYaml: `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(work)}, port: 8080 }\nbuilds: { concurrency: 1, queueLength: 2 }` });
  });
  afterAll(async () => {
    await stack?.close();
    const images = await stack?.docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${SOURCE}`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("builds from the CLI, lists, prints the log, and refuses a branch the repository does not have", async () => {
    const run = (args: string[]) => execa("node", [CLI, "--config", stack.configFile, ...args], { reject: false, all: true });
    const built = await run(["preview", SOURCE, "main", "--wait", "60"]);
    expect(built.exitCode, built.all).toBe(0);
    expect(built.stdout).toMatch(new RegExp(`^\\S+  ${SOURCE}\\s+ready\\s+main @ [0-9a-f]{12}  ${PREVIEW_IMAGE_REPO}/${SOURCE}:[0-9a-f]{12}  http://${SOURCE}-main\\.demo\\.localhost:\\d+/$`));
    // An unknown branch is refused at once (404, the closest branches named), never queued to fail later.
    const missing = await run(["preview", SOURCE, "mian", "--wait", "60"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe(`demo-launcher: ${SOURCE} has no branch "mian". Branches, closest first: main.`);
    const listed = await run(["builds"]);
    expect(listed.stdout).toMatch(/^ID\s+SOURCE\s+REF\s+STATE\s+URL\s+REASON$/m);
    expect(listed.stdout.split("\n").filter((text) => text.includes(SOURCE)).length).toBeGreaterThanOrEqual(1);
    expect(listed.stdout).not.toContain("mian");
    const id = built.stdout.split(" ")[0]!;
    expect((await run(["builds", "log", id, "-f"])).stdout).toContain("[demo-launcher]");
    expect((await run(["builds", "shout"])).stderr).toBe('demo-launcher: builds: unknown action "shout"; allowed: ls, log <id> [-f], cancel <id>');
  });
});
