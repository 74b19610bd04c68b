// The build queue run for real: git mirrors, Docker builds, one build per branch, time limits, cancellation, restarts.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Docker from "dockerode";
import { BuildRunner } from "../../src/builds/build-runner.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";
import { ImageBuilder, PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { parseConfigText } from "../../src/config/load.js";
import { DomainError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/logger.js";
import { requireDocker } from "../support/stack.js";

const SOURCE = `r${Math.random().toString(36).slice(2, 8)}`;
const SERVE = 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n';

describe("build runner (real git, real Docker)", () => {
  let root: string;
  let work: string;
  let docker: Docker;
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: work });
  let ids = 0;

  const runnerFor = (stateDir: string, limits = "builds: { concurrency: 1, timeout: 20s, queueLength: 5 }") => {
    const config = parseConfigText(`previews:\n  ${SOURCE}: { repo: ${JSON.stringify(`file://${work}`)}, port: 8080 }\n${limits}\n`, "test.yaml", root);
    return new BuildRunner({ stateDir, previews: config.previews, limits: config.builds, docker, images: new ImageBuilder(docker), logger: silentLogger, scheduler: systemScheduler, newId: () => `build${(ids += 1)}-${Math.random().toString(36).slice(2, 6)}` });
  };

  beforeAll(async () => {
    docker = await requireDocker();
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-runner-"));
    work = path.join(root, "work");
    await mkdir(work, { recursive: true });
    await copyFile("/bin/busybox", path.join(work, "busybox"));
    await writeFile(path.join(work, "index.html"), "main\n");
    await writeFile(path.join(work, "Dockerfile"), SERVE);
    await git(["init", "-q", "-b", "main"]);
    await git(["add", "."]);
    await git(["commit", "-q", "-m", "main"]);
    await git(["checkout", "-q", "-b", "feature/slow"]);
    await writeFile(path.join(work, "Dockerfile"), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sleep", "30"]\n');
    await git(["commit", "-q", "-am", "slow"]);
    await git(["checkout", "-q", "main"]);
  });
  afterAll(async () => {
    const images = await docker?.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${SOURCE}`] } });
    for (const image of images ?? []) await docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("builds a branch once however many ask, logs it, and refuses unknown sources, bad refs and missing branches", async () => {
    const runner = runnerFor(path.join(root, "state-a"));
    await runner.start();
    const [first, second] = await Promise.all([runner.request(SOURCE, { branch: "main" }), runner.request(SOURCE, { branch: "main" })]);
    expect(first.build.id).toBe(second.build.id);
    await expect(runner.request("nope", { branch: "main" })).rejects.toMatchObject({ data: { code: "unknown-source", allowed: [SOURCE] } });
    await expect(runner.request(SOURCE, { branch: "--upload-pack=touch x" })).rejects.toBeInstanceOf(DomainError);
    const missing = (await runner.request(SOURCE, { branch: "nothing/here" })).build;
    await runner.idle();
    expect(runner.queue.get(first.build.id)).toMatchObject({ state: "ready", image: expect.stringMatching(new RegExp(`^${PREVIEW_IMAGE_REPO}/${SOURCE}:[0-9a-f]{12}$`)) });
    expect(runner.queue.get(missing.id)).toMatchObject({ state: "failed", reason: `there is no branch nothing/here in ${SOURCE}` });
    expect(await readFile(runner.logFile(first.build.id), "utf8")).toContain("[demo-launcher] built");
    // The same commit asked for by its id later: served from the image, no second build.
    const commit = runner.queue.get(first.build.id)!.commit!;
    const again = await runner.request(SOURCE, { commit: commit.slice(0, 10) });
    await runner.idle();
    expect(runner.queue.get(again.build.id)).toMatchObject({ state: "ready", commit, image: runner.queue.get(first.build.id)!.image });
    await runner.close();
  });

  it("stops a build at its time limit and on cancel, and a restart starts an interrupted build once more", async () => {
    const runner = runnerFor(path.join(root, "state-b"), "builds: { concurrency: 1, timeout: 3s, queueLength: 5 }");
    await runner.start();
    const slow = (await runner.request(SOURCE, { branch: "feature/slow" })).build;
    await runner.idle();
    expect(runner.queue.get(slow.id)).toMatchObject({ state: "timed-out", reason: "it took longer than 3 s" });

    const longer = runnerFor(path.join(root, "state-c"));
    await longer.start();
    // Cancelled while Docker runs its slow step.
    const building = new Promise<void>((resolve) => longer.onChange((build) => build.branch === "feature/slow" && build.state === "building" && resolve()));
    const cancelled = (await longer.request(SOURCE, { branch: "feature/slow" })).build;
    await building;
    expect(await longer.cancel(cancelled.id)).toBe(true);
    expect(longer.queue.get(cancelled.id)).toMatchObject({ state: "cancelled", reason: "it was cancelled" });
    await longer.close();

    // A file as a killed controller leaves it: one build in the middle of building.
    const stateDir = path.join(root, "state-d");
    await mkdir(stateDir, { recursive: true });
    await writeFile(path.join(stateDir, "builds.json"), JSON.stringify({ version: 1, builds: [{ id: "interrupted1", source: SOURCE, branch: "main", state: "building", createdAt: Date.now() - 5000, startedAt: Date.now() - 4000, attempts: 1 }] }));
    const restarted = runnerFor(stateDir);
    await restarted.start();
    await restarted.idle();
    expect(restarted.queue.get("interrupted1")).toMatchObject({ state: "ready", attempts: 2 });
    await restarted.close();
  });

  it("never writes a password or token to a build's log or reason: not from git's messages, not from a step's output", async () => {
    const secret = "s3cr3t-build-token-42";
    const webhookSecret = "webhook-secret-0123456789";
    // A step prints the webhook secret (someone committed it); the repository is also named by a URL with a password.
    await git(["checkout", "-q", "-b", "leaky"]);
    await writeFile(path.join(work, "Dockerfile"), `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "echo", "printed ${webhookSecret} here in ${SOURCE}"]\n`);
    await git(["commit", "-q", "-am", "leaky"]);
    await git(["checkout", "-q", "main"]);
    const config = parseConfigText(`previews:\n  ${SOURCE}: { repo: ${JSON.stringify(`file://${work}`)}, port: 8080 }\n  leaky: { repo: "http://ci:${secret}@127.0.0.1:9/repo.git", port: 8080 }\nbuilds: { concurrency: 1, timeout: 20s, queueLength: 5 }\n`, "test.yaml", root);
    const runner = new BuildRunner({ stateDir: path.join(root, "state-e"), previews: config.previews, limits: config.builds, secrets: [webhookSecret], docker, images: new ImageBuilder(docker), logger: silentLogger, scheduler: systemScheduler, newId: () => `leaky${(ids += 1)}`, fetchRetryMs: 1 });
    await runner.start();
    const printed = (await runner.request(SOURCE, { branch: "leaky" })).build;
    const unreachable = (await runner.request("leaky", { branch: "main" })).build;
    await runner.idle();
    const printedLog = await readFile(runner.logFile(printed.id), "utf8");
    // (SOURCE is new each run: Docker's build cache would skip a step it saw before, output and all.)
    expect(printedLog).toContain(`printed *** here in ${SOURCE}`);
    expect(printedLog).not.toContain(webhookSecret);
    const failed = runner.queue.get(unreachable.id)!;
    expect(failed.state).toBe("failed");
    expect(`${failed.reason} ${await readFile(runner.logFile(unreachable.id), "utf8")}`).not.toContain(secret);
    await runner.close();
  });
});
