// Git for previews: one mirror per repo (fetched with prune), refs checked by git's own rules, build contexts from
// `git archive` of the exact commit. Every call is an argument array with options ended before user values.
import { createHash } from "node:crypto";
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { execa } from "execa";
import { DomainError } from "../core/errors.js";
import { COMMIT_PATTERN } from "../core/previews/preview-names.js";

/**
 * Transports git may use: `ext::` (which runs a command) and any helper we did not name are refused, whatever
 * the URL in the config says.
 */
const ALLOWED_PROTOCOLS = "file:git:http:https:ssh";
const FETCH_TIMEOUT_MS = 5 * 60_000;

function gitEnv(): Record<string, string> {
  return {
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
    // Never wait for a password on a terminal nobody watches.
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/true",
    SSH_ASKPASS: "/bin/true",
    // The operator's ~/.gitconfig must not change what a fetch does (hooks, url rewrites, fsmonitor).
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
  };
}

async function git(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const result = await execa("git", args, { cwd: options.cwd, env: gitEnv(), extendEnv: true, timeout: options.timeoutMs ?? 60_000, reject: false, stdin: "ignore", all: true });
  if (result.failed) throw new GitError(args[0] ?? "git", String(result.all ?? "").trim() || result.shortMessage || `exit code ${result.exitCode}`);
  return String(result.stdout ?? "");
}

/** The branches a repository has, asked of the repository itself (doctor's check that it can be fetched). */
export async function remoteBranches(repo: string, timeoutMs = 20_000): Promise<string[]> {
  const listed = await git(["ls-remote", "--heads", "--", repo], { timeoutMs });
  return listed.split("\n").flatMap((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1] ?? []);
}

/** git refused or failed; the message is git's own last lines. */
export class GitError extends Error {
  constructor(readonly command: string, readonly output: string) {
    super(`git ${command} failed: ${output.split("\n").slice(-3).join(" ")}`);
    this.name = "GitError";
  }
}

/**
 * A branch name as the user gave it, checked by git's own rules (`git check-ref-format`, on the full ref so
 * the value can never be read as an option). Refuses with a DomainError naming the rule broken.
 */
export async function checkBranchName(name: unknown): Promise<string> {
  if (typeof name !== "string" || name.length === 0 || name.length > 255) throw new DomainError({ code: "bad-ref", ref: String(name).slice(0, 80), why: "a branch name is 1 to 255 characters" });
  if (name.startsWith("-")) throw new DomainError({ code: "bad-ref", ref: name.slice(0, 80), why: "a branch name may not start with '-'" });
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(name)) throw new DomainError({ code: "bad-ref", ref: name.slice(0, 80), why: "a branch name has no spaces or control characters" });
  const result = await execa("git", ["check-ref-format", `refs/heads/${name}`], { reject: false, env: gitEnv(), stdin: "ignore" });
  if (result.exitCode !== 0) throw new DomainError({ code: "bad-ref", ref: name.slice(0, 80), why: "git does not accept it as a branch name (see git check-ref-format)" });
  return name;
}

/** A commit id: 7 to 40 lowercase hex digits, nothing else (it is later resolved in the mirror). */
export function checkCommitId(commit: unknown): string {
  if (typeof commit !== "string" || !COMMIT_PATTERN.test(commit)) throw new DomainError({ code: "bad-ref", ref: String(commit).slice(0, 80), why: "a commit is 7 to 40 lowercase hexadecimal digits" });
  return commit;
}

/** The build context inside the repository: a relative path without `..`, or `.`. */
export function checkContextPath(context: string): string {
  const normal = path.posix.normalize(context);
  if (normal === "." || normal === "./") return ".";
  if (path.posix.isAbsolute(normal) || normal.startsWith("..") || normal.startsWith("-")) throw new Error(`the build context ${JSON.stringify(context)} must be a path inside the repository`);
  return normal.replace(/\/+$/, "");
}

export class GitMirror {
  constructor(readonly url: string, readonly dir: string) {}

  /** One mirror per repository URL under `<stateDir>/git/`. */
  static forRepo(stateDir: string, url: string): GitMirror {
    return new GitMirror(url, path.join(stateDir, "git", `${createHash("sha256").update(url).digest("hex").slice(0, 16)}.git`));
  }

  private async exists(): Promise<boolean> {
    return access(path.join(this.dir, "HEAD")).then(
      () => true,
      () => false,
    );
  }

  /**
   * Clones the mirror the first time, then fetches with prune: a deleted branch `a/b` goes before `a` comes,
   * so a branch can take the place of a deleted one it would have clashed with.
   */
  async fetch(): Promise<void> {
    if (!(await this.exists())) {
      await mkdir(path.dirname(this.dir), { recursive: true });
      await git(["clone", "--mirror", "--quiet", "--", this.url, this.dir], { timeoutMs: FETCH_TIMEOUT_MS });
      return;
    }
    await git(["fetch", "--prune", "--quiet", "origin"], { cwd: this.dir, timeoutMs: FETCH_TIMEOUT_MS });
  }

  /** Branch name → commit, as of the last fetch. */
  async branches(): Promise<Map<string, string>> {
    const text = await git(["for-each-ref", "--format=%(refname:strip=2)%09%(objectname)", "refs/heads/"], { cwd: this.dir });
    const branches = new Map<string, string>();
    for (const line of text.split("\n")) {
      const [name, commit] = line.split("\t");
      if (name && commit) branches.set(name, commit);
    }
    return branches;
  }

  /** The full id of a commit the mirror has, or undefined. */
  async resolveCommit(commit: string): Promise<string | undefined> {
    checkCommitId(commit);
    const text = await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${commit}^{commit}`], { cwd: this.dir }).catch(() => "");
    return /^[0-9a-f]{40}$/.test(text.trim()) ? text.trim() : undefined;
  }

  /** The id of the tree of one folder of the commit: the same id means the same files (a build context unchanged by a push). */
  async treeId(commit: string, context = "."): Promise<string> {
    const full = checkCommitId(commit);
    const folder = checkContextPath(context);
    const text = await git(["rev-parse", "--verify", "--end-of-options", folder === "." ? `${full}^{tree}` : `${full}:${folder}`], { cwd: this.dir }).catch(() => "");
    if (!/^[0-9a-f]{40}$/.test(text.trim())) throw new Error(`the commit ${full.slice(0, 12)} has no folder ${folder}`);
    return text.trim();
  }

  /** One file of the commit (a preview's seed), refused past `maxBytes` or when the commit has no such file. */
  async readFile(commit: string, file: string, maxBytes: number): Promise<Buffer> {
    const full = checkCommitId(commit);
    const object = `${full}:${checkContextPath(file)}`;
    const size = Number((await git(["cat-file", "-s", "--end-of-options", object], { cwd: this.dir }).catch(() => "")).trim());
    if (!Number.isInteger(size) || size <= 0) throw new Error(`the commit ${full.slice(0, 12)} has no file ${file}`);
    if (size > maxBytes) throw new Error(`${file} of commit ${full.slice(0, 12)} is ${Math.round(size / 1048576)} MB, more than ${Math.round(maxBytes / 1048576)} MB`);
    const result = await execa("git", ["cat-file", "blob", "--end-of-options", object], { cwd: this.dir, env: gitEnv(), stdin: "ignore", encoding: "buffer", timeout: 60_000, maxBuffer: maxBytes + 1 });
    return Buffer.from(result.stdout);
  }

  /** A tar stream of the exact commit's tree (or of one folder of it): never a shared working tree. */
  archive(commit: string, context = "."): Readable {
    const full = checkCommitId(commit);
    const folder = checkContextPath(context);
    const treeish = folder === "." ? full : `${full}:${folder}`;
    const child = execa("git", ["archive", "--format=tar", "--end-of-options", treeish], { cwd: this.dir, env: gitEnv(), stdin: "ignore", buffer: false, encoding: "buffer" });
    child.catch(() => {});
    return child.stdout!;
  }
}
