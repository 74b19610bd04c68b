// Git for previews on real git: a bare repo over file:// and over `git daemon` on 127.0.0.1; hostile refs run nothing.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBranchName, checkCommitId, GitMirror } from "../../src/builds/git.js";
import { DomainError } from "../../src/core/errors.js";
import { freePort, waitFor } from "../support/stack.js";

let root: string;
let work: string;
let bare: string;
let daemon: ResultPromise | undefined;
let daemonPort: number;

const run = (args: string[], cwd = work) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd });

async function commitFile(file: string, text: string, message: string): Promise<string> {
  await mkdir(path.dirname(path.join(work, file)), { recursive: true });
  await writeFile(path.join(work, file), text);
  await run(["add", "--", file]);
  await run(["commit", "-q", "-m", message]);
  return (await run(["rev-parse", "HEAD"])).stdout.trim();
}

async function push(...refspecs: string[]): Promise<void> {
  await run(["push", "-q", "--force", bare, ...refspecs]);
}

/** What `git archive` of a commit holds: the tar's file list. */
async function filesOf(mirror: GitMirror, commit: string, context?: string): Promise<string[]> {
  const stream = mirror.archive(commit, context);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const listed = await execa("tar", ["-t"], { input: Buffer.concat(chunks) });
  return listed.stdout.split("\n").filter((name) => name && !name.endsWith("/")).sort();
}

describe("git mirrors for previews (real git)", () => {
  let first: string;
  let second: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-git-"));
    work = path.join(root, "work");
    bare = path.join(root, "served", "web.git");
    await mkdir(work, { recursive: true });
    await execa("git", ["init", "-q", "--bare", "--", bare]);
    await execa("git", ["init", "-q", "-b", "main"], { cwd: work });
    first = await commitFile("Dockerfile", "FROM scratch\n", "first");
    second = await commitFile("web/index.html", "<h1>two</h1>\n", "second");
    await push("main");
    await run(["branch", "feature/login", first]);
    await run(["branch", "a/b", first]);
    await push("feature/login", "a/b");
    daemonPort = await freePort();
    daemon = execa("git", ["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", `--port=${daemonPort}`, `--base-path=${path.join(root, "served")}`, path.join(root, "served")], { reject: false });
    await waitFor("git daemon to answer", async () => (await execa("git", ["ls-remote", `git://127.0.0.1:${daemonPort}/web.git`], { reject: false })).exitCode === 0, 30_000);
  });
  afterAll(async () => {
    daemon?.kill();
    await daemon?.catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each(["file", "git"])("mirrors over %s://, lists nested branches and archives the exact commit", async (scheme) => {
    const url = scheme === "file" ? `file://${bare}` : `git://127.0.0.1:${daemonPort}/web.git`;
    const mirror = GitMirror.forRepo(path.join(root, `state-${scheme}`), url);
    await mirror.fetch();
    expect(Object.fromEntries(await mirror.branches())).toEqual({ main: second, "feature/login": first, "a/b": first });
    expect(await mirror.resolveCommit(second.slice(0, 8))).toBe(second);
    expect(await mirror.resolveCommit("0000000")).toBeUndefined();
    expect(await filesOf(mirror, first)).toEqual(["Dockerfile"]);
    expect(await filesOf(mirror, second)).toEqual(["Dockerfile", "web/index.html"]);
    expect(await filesOf(mirror, second, "web")).toEqual(["index.html"]);
  });

  it("fetches with prune, so a branch `a` can follow a deleted `a/b`", async () => {
    const mirror = GitMirror.forRepo(path.join(root, "state-prune"), `file://${bare}`);
    await mirror.fetch();
    await run(["push", "-q", bare, "--delete", "a/b"]);
    await run(["branch", "-D", "a/b"]);
    await run(["branch", "a", second]);
    await push("a");
    await mirror.fetch();
    const branches = await mirror.branches();
    expect(branches.get("a")).toBe(second);
    expect(branches.has("a/b")).toBe(false);
  });

  it("refuses hostile refs and URLs, and runs nothing for them", async () => {
    const marker = path.join(root, "pwned");
    for (const name of [`--upload-pack=touch ${marker}`, "$(touch /tmp/x)", "a..b", "feature lock", "x.lock", "-", "refs/../x", "a\nb"]) {
      await expect(checkBranchName(name), name).rejects.toBeInstanceOf(DomainError);
    }
    expect(await checkBranchName("feature/login")).toBe("feature/login");
    for (const commit of ["$(id)", "HEAD", "--all", "abc", "ABCDEF1", `${"a".repeat(41)}`]) expect(() => checkCommitId(commit), commit).toThrow(DomainError);
    const mirror = GitMirror.forRepo(path.join(root, "state-hostile"), `file://${bare}`);
    await mirror.fetch();
    await expect(mirror.resolveCommit(`--output=${marker}`)).rejects.toBeInstanceOf(DomainError);
    expect(() => mirror.archive(`--remote=${marker}`)).toThrow(DomainError);
    expect(() => mirror.archive(first, "../../etc")).toThrow(/inside the repository/);
    // The ext:: transport runs a command: refused whatever the config says.
    await expect(GitMirror.forRepo(path.join(root, "state-ext"), `ext::sh -c touch% ${marker}`).fetch()).rejects.toThrow(/git clone failed/);
    expect(existsSync(marker)).toBe(false);
  });
});
