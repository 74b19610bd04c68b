// Preview images built from git commits on the real Docker engine: labels, reuse, logs, a failing build's lines.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitMirror } from "../../src/builds/git.js";
import { ImageBuildError, ImageBuilder, previewImageTag } from "../../src/builds/image-builder.js";
import { requireDocker } from "../support/stack.js";
import type Docker from "dockerode";

const SOURCE = `t${Math.random().toString(36).slice(2, 8)}`;

describe("preview image builds (real git, real Docker)", () => {
  let root: string;
  let docker: Docker;
  let mirror: GitMirror;
  let good: string;
  let broken: string;
  const git = (args: string[], cwd: string) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd });

  beforeAll(async () => {
    docker = await requireDocker();
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-build-"));
    const work = path.join(root, "work");
    await mkdir(path.join(work, "app/www"), { recursive: true });
    await copyFile("/bin/busybox", path.join(work, "app/busybox"));
    await writeFile(path.join(work, "app/www/index.html"), "built from git\n");
    await writeFile(path.join(work, "app/Dockerfile.preview"), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    await git(["init", "-q", "-b", "main"], work);
    await git(["add", "."], work);
    await git(["commit", "-q", "-m", "good"], work);
    good = (await git(["rev-parse", "HEAD"], work)).stdout.trim();
    await writeFile(path.join(work, "app/Dockerfile.preview"), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo the tests fail here; exit 3"]\n');
    await git(["commit", "-q", "-am", "broken"], work);
    broken = (await git(["rev-parse", "HEAD"], work)).stdout.trim();
    mirror = GitMirror.forRepo(path.join(root, "state"), `file://${work}`);
    await mirror.fetch();
  });
  afterAll(async () => {
    for (const commit of [good, broken]) await docker?.getImage(previewImageTag(SOURCE, commit)).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("builds the exact commit's folder with its Dockerfile, labels the image, and reuses it the next time", async () => {
    const builder = new ImageBuilder(docker);
    const logFile = path.join(root, "logs", "good.log");
    const tag = await builder.build({ source: SOURCE, commit: good, ref: "main", dockerfile: "Dockerfile.preview", context: "app", logFile }, mirror);
    expect(tag).toBe(previewImageTag(SOURCE, good));
    const info = await docker.getImage(tag).inspect();
    expect(info.Config.Labels).toMatchObject({ "demo-launcher.source": SOURCE, "demo-launcher.commit": good, "demo-launcher.ref": "main" });
    const log = await readFile(logFile, "utf8");
    expect(log).toContain(`[demo-launcher] building ${tag} from ${good} (main)`);
    expect(log).toMatch(/Step 2\/\d+ : COPY busybox \/bin\/busybox/);
    expect(log).toContain(`[demo-launcher] built ${tag}`);
    // The same commit again: no build, one line that says so.
    const again = path.join(root, "logs", "again.log");
    expect(await builder.build({ source: SOURCE, commit: good, dockerfile: "Dockerfile.preview", context: "app", logFile: again }, mirror)).toBe(tag);
    expect(await readFile(again, "utf8")).toBe(`[demo-launcher] ${tag} was built from ${good} before: reused, no build\n`);
    expect(await builder.existing(SOURCE, good)).toBe(tag);
  });

  it("fails a broken build with the lines that say why", async () => {
    const builder = new ImageBuilder(docker);
    const logFile = path.join(root, "logs", "broken.log");
    const failure = await builder.build({ source: SOURCE, commit: broken, dockerfile: "Dockerfile.preview", context: "app", logFile }, mirror).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ImageBuildError);
    expect((failure as ImageBuildError).message).toMatch(/returned a non-zero code: 3/);
    expect((failure as ImageBuildError).tail).toContain("the tests fail here");
    expect(await builder.existing(SOURCE, broken)).toBeUndefined();
  });
});
