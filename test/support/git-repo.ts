// Git repositories for preview tests: a working repo whose commits are busybox web servers (FROM scratch), and
// a bare copy served by a real `git daemon` on 127.0.0.1.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { freePort, waitFor } from "./stack.js";

export const SERVE_DOCKERFILE = 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n';

export interface WorkRepo {
  dir: string;
  git(args: string[]): Promise<string>;
  /** Commits index.html with this text on the current branch; answers the commit id. */
  commitPage(text: string): Promise<string>;
  /** Commits a Dockerfile that fails at build time, printing `marker`. */
  commitBroken(marker: string): Promise<string>;
}

export async function makeWorkRepo(dir: string): Promise<WorkRepo> {
  await mkdir(dir, { recursive: true });
  const git = async (args: string[]) => (await execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: dir })).stdout.trim();
  await copyFile("/bin/busybox", path.join(dir, "busybox"));
  await writeFile(path.join(dir, "index.html"), "main\n");
  await writeFile(path.join(dir, "Dockerfile"), SERVE_DOCKERFILE);
  await git(["init", "-q", "-b", "main"]);
  await git(["add", "."]);
  await git(["commit", "-q", "-m", "main"]);
  return {
    dir,
    git,
    async commitPage(text) {
      await writeFile(path.join(dir, "index.html"), `${text}\n`);
      await writeFile(path.join(dir, "Dockerfile"), SERVE_DOCKERFILE);
      await git(["commit", "-q", "-am", text]);
      return git(["rev-parse", "HEAD"]);
    },
    async commitBroken(marker) {
      await writeFile(path.join(dir, "Dockerfile"), `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo ${marker}; exit 3"]\n`);
      await git(["commit", "-q", "-am", `broken ${marker}`]);
      return git(["rev-parse", "HEAD"]);
    },
  };
}

/** A bare clone of `work` served by `git daemon` on 127.0.0.1; `url` is its git:// address. */
export async function serveWithGitDaemon(work: WorkRepo, baseDir: string, port?: number): Promise<{ url: string; bare: string; sync(): Promise<void>; stop(): Promise<void> }> {
  const base = path.join(baseDir, `daemon-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(base, { recursive: true });
  const bare = path.join(base, "app.git");
  await execa("git", ["clone", "-q", "--bare", work.dir, bare]);
  port ??= await freePort();
  const daemon: ResultPromise = execa("git", ["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", `--port=${port}`, `--base-path=${base}`, base], { reject: false, stdin: "ignore" });
  const url = `git://127.0.0.1:${port}/app.git`;
  await waitFor("git daemon to answer", async () => (await execa("git", ["ls-remote", url], { reject: false })).exitCode === 0, 30_000, 100);
  return {
    url,
    bare,
    // Pushes every branch of the work repo (deleted ones too) to the served copy.
    async sync() {
      await execa("git", ["push", "-q", "--mirror", bare], { cwd: work.dir });
    },
    async stop() {
      daemon.kill("SIGTERM");
      await daemon.catch(() => {});
    },
  };
}
