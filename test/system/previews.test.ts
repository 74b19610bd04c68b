// Previews served for real: a branch built from git is served at its branch host and its commit host; when the
// branch moves, its host switches to the new commit with zero downtime and the old commit's host stays.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { branchLabel, commitLabel } from "../../src/core/previews/preview-names.js";
import { startLoad } from "../support/load.js";
import { startStack, waitFor, type Stack } from "../support/stack.js";

const SOURCE = `p${Math.random().toString(36).slice(2, 8)}`;

describe("previews of branches and commits (real git, Docker and nginx)", () => {
  let root: string;
  let work: string;
  let stack: Stack;
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: work });
  const commitPage = async (text: string) => {
    await writeFile(path.join(work, "index.html"), `${text}\n`);
    await git(["commit", "-q", "-am", text]);
    return (await git(["rev-parse", "HEAD"])).stdout.trim();
  };
  const build = async (branch: string, source = SOURCE) => {
    const answer = await stack.api("POST", "/api/builds", { source, branch });
    const { id } = JSON.parse(answer.body) as { id: string };
    return waitFor(`build ${id}`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/builds/${id}`)).body) as { state: string; reason?: string; commit?: string };
      if (view.state === "failed") throw new Error(view.reason);
      return view.state === "ready" ? view : undefined;
    }, 60_000, 100);
  };
  const page = async (label: string) => (await stack.viaNginx(`${label}.demo.localhost`, "/")).body.trim();

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-previews-"));
    work = path.join(root, "repo");
    await mkdir(work, { recursive: true });
    await copyFile("/bin/busybox", path.join(work, "busybox"));
    await writeFile(path.join(work, "index.html"), "first\n");
    await writeFile(path.join(work, "Dockerfile"), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    await git(["init", "-q", "-b", "main"]);
    await git(["add", "."]);
    await git(["commit", "-q", "-m", "first"]);
    await git(["checkout", "-q", "-b", "feature/login"]);
    stack = await startStack({ nginxYaml: "  drain: 1s", extraYaml: `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(work)}, port: 8080, readiness: { path: /, timeout: 20s } }\n  ${SOURCE}f: { repo: ${JSON.stringify(work)}, port: 8080, refresh: 1s, readiness: { path: /, timeout: 20s } }` });
  });
  afterAll(async () => {
    await stack?.close();
    const images = await stack?.docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${SOURCE}`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("serves a built branch at its branch and commit hosts, and follows the branch with no failed request", async () => {
    const first = await build("feature/login");
    const branchHost = branchLabel(SOURCE, "feature/login");
    const firstHost = commitLabel(SOURCE, first.commit!);
    expect(branchHost).toMatch(new RegExp(`^${SOURCE}-feature-login-[0-9a-f]{7}$`));
    await waitFor("the branch host to serve the first commit", async () => (await page(branchHost)) === "first", 30_000);
    await waitFor("the commit host to serve it", async () => (await page(firstHost)) === "first", 30_000);
    // Served once nginx routes it; ready once nginx confirmed it (a few answers in a row from the new workers).
    const view = await waitFor("the branch preview to be ready", async () => {
      const current = JSON.parse((await stack.api("GET", `/api/demos/${branchHost}`)).body) as { kind: string; status: string };
      return current.status === "ready" ? current : undefined;
    }, 10_000);
    expect(view.kind).toBe("preview");

    const load = startLoad(stack.nginxPort, `${branchHost}.demo.localhost`);
    let second: { commit?: string };
    try {
      await commitPage("second");
      second = await build("feature/login");
      await waitFor("the branch host to switch to the second commit", async () => (await page(branchHost)) === "second", 30_000);
      // The load goes on past the switch: the new instance serves it too.
      await load.more(20);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(new Set(load.answers.map((answer) => answer.body.trim()))).toEqual(new Set(["first", "second"]));
    // Each commit keeps its own host.
    expect(await page(firstHost)).toBe("first");
    await waitFor("the second commit's host", async () => (await page(commitLabel(SOURCE, second.commit!))) === "second", 30_000);
    // No visitor slot is taken by previews.
    const status = JSON.parse((await stack.api("GET", "/api/status")).body) as { demos: { total: number } };
    expect(status.demos.total).toBe(3);
  });

  it("removes a branch's preview once its branch is gone from the repository (the follower's sweep), saying why", async () => {
    await git(["checkout", "-q", "-b", "short-lived", "main"]);
    await git(["checkout", "-q", "feature/login"]);
    await build("short-lived", `${SOURCE}f`);
    const label = branchLabel(`${SOURCE}f`, "short-lived");
    await waitFor("the short-lived branch's preview", async () => (await page(label)) === "first", 30_000);
    await git(["branch", "-q", "-D", "short-lived"]);
    const ended = await waitFor("the preview to end", async () => {
      const answer = await stack.api("GET", `/api/demos/${label}`);
      const view = JSON.parse(answer.body) as { status: string; reason?: string };
      return view.status === "stopped" ? view : undefined;
    }, 30_000, 200);
    expect(ended.reason).toBe("its branch short-lived is gone");
  });
});
