// Faults in the middle of preview builds: kill -9 of the controller (the build is run again, no half-built image
// is used, no build container is left behind) and a Docker daemon restart (tried once more, then failed with why).
import type { BuildView } from "../../src/api/views.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { makeWorkRepo, type WorkRepo } from "../support/git-repo.js";
import { startStack, waitFor, type Stack } from "../support/stack.js";
import { sleep } from "./common.js";
import { PrivateDockerd, runIfMain, runInOwnNetns } from "./private-dockerd.js";
import { Checks, type Row } from "./report.js";

const SOURCE = "chaos";


/** A commit whose build takes a few seconds in a RUN step (the fault lands there) and then serves `text`. */
async function slowCommit(work: WorkRepo, branch: string, text: string, seconds: number): Promise<string> {
  await work.git(["checkout", "-q", "-B", branch, "main"]);
  await writeFile(path.join(work.dir, "index.html"), `${text}\n`);
  await writeFile(
    path.join(work.dir, "Dockerfile"),
    `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo building ${text}; sleep ${seconds}"]\nCOPY index.html /www/index.html\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
  );
  await work.git(["commit", "-q", "-am", text]);
  return work.git(["rev-parse", "HEAD"]);
}

const view = async (stack: Stack, id: string) => JSON.parse((await stack.api("GET", `/api/builds/${id}`)).body) as BuildView;

/** Containers that are not demos (no demo-launcher labels): a build's intermediate containers, if any were left. */
async function strayContainers(docker: Docker, before: Set<string>): Promise<string[]> {
  const all = await docker.listContainers({ all: true });
  return all.filter((container) => !before.has(container.Id) && !container.Labels?.["demo-launcher.namespace"]).map((container) => `${container.Id.slice(0, 12)} (${container.Image}, ${container.State})`);
}

function previewsYaml(work: WorkRepo): string {
  return `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(work.dir)}, port: 8080, readiness: { path: /, timeout: 30s } }\nbuilds: { concurrency: 2, timeout: 2m }`;
}

export async function buildKills(rounds: number, log: (line: string) => void): Promise<Row[]> {
  const root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-chaos-builds-"));
  const work = await makeWorkRepo(path.join(root, "work"));
  const stack = await startStack({ controller: "child", extraYaml: previewsYaml(work) });
  const checks = new Checks();
  let survived = 0;
  let lost = 0;
  const before = new Set((await stack.docker.listContainers({ all: true })).map((container) => container.Id));
  try {
    for (let round = 1; round <= rounds; round += 1) {
      const failuresBefore = checks.failures.length;
      const lostBefore = lost;
      const text = `kill round ${round} ${Math.random().toString(36).slice(2, 8)}`;
      const commit = await slowCommit(work, `kill/r${round}`, text, 3);
      const build = JSON.parse((await stack.api("POST", "/api/builds", { source: SOURCE, branch: `kill/r${round}` })).body) as BuildView;
      await waitFor("the build to be in its RUN step", async () => (await view(stack, build.id)).state === "building", 30_000, 50);
      await sleep(500 + Math.random() * 1500);
      stack.child!.kill("SIGKILL");
      await stack.child!.catch(() => {});
      await stack.startChild();
      const done = await waitFor("the interrupted build to finish", async () => {
        const current = await view(stack, build.id);
        return ["queued", "fetching", "building", "starting"].includes(current.state) ? undefined : current;
      }, 90_000, 200).catch(() => undefined);
      if (!checks.that(done?.state === "ready", `round ${round}: the build ended ${done?.state ?? "nowhere"}: ${done?.reason ?? ""}`)) lost += 1;
      checks.that((done?.attempts ?? 0) === 2, `round ${round}: the build was started ${done?.attempts} times, not twice`);
      // The image is whole: labelled with its commit, and the preview serves this commit's page.
      const image = done?.image ? await stack.docker.getImage(done.image).inspect().catch(() => undefined) : undefined;
      checks.that(image?.Config?.Labels?.["demo-launcher.commit"] === commit, `round ${round}: the image is not labelled with commit ${commit.slice(0, 12)}`);
      const host = `${SOURCE}-kill-r${round}-`;
      const previews = JSON.parse((await stack.api("GET", "/api/demos")).body) as { demos: Array<{ id: string; host: string; status: string }> };
      const preview = previews.demos.find((demo) => demo.id.startsWith(host));
      const page = preview ? (await stack.viaNginx(preview.host, "/")).body.trim() : "";
      if (!checks.that(page === text, `round ${round}: the preview serves ${JSON.stringify(page.slice(0, 80))}`)) lost += 1;
      const strays = await strayContainers(stack.docker, before);
      if (!checks.that(strays.length === 0, `round ${round}: containers left behind: ${strays.join(", ")}`)) lost += strays.length;
      const ok = checks.failures.length === failuresBefore && lost === lostBefore;
      if (ok) survived += 1;
      log(`  build kill ${round}/${rounds}: ${ok ? "ok" : checks.failures.slice(failuresBefore).join("; ")}`);
    }
    return [
      {
        fault: "kill -9 of the controller during a preview build",
        injected: rounds,
        survived,
        lost,
        detail: `each build ran again once (attempts 2) and became ready with a whole, labelled image serving its commit; no build container left behind${checks.failures.length ? `; FAILED: ${checks.failures.slice(0, 5).join("; ")}` : ""}`,
      },
    ];
  } finally {
    await stack.close();
    const images = await stack.docker.listImages({ filters: { reference: [`demo-launcher-preview/${SOURCE}`] } });
    for (const image of images) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs in a network namespace of its own with a private dockerd (see runInOwnNetns). */
export function buildDockerRestart(log: (line: string) => void): Promise<Row[]> {
  return runInOwnNetns(fileURLToPath(import.meta.url), [], log);
}

async function dockerRestartInsideNamespace(log: (line: string) => void): Promise<Row[]> {
  const daemon = await PrivateDockerd.start();
  const previousHost = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = daemon.host;
  const root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-chaos-builds-"));
  const work = await makeWorkRepo(path.join(root, "work"));
  let stack: Stack | undefined;
  const checks = new Checks();
  let survivedOnce = 0;
  let survivedTwice = 0;
  try {
    stack = await startStack({ controller: "child", extraYaml: previewsYaml(work) });
    const restartDuring = async (id: string, attempt: number) => {
      await waitFor(`attempt ${attempt} to be in its RUN step`, async () => {
        const current = await view(stack!, id);
        return current.state === "building" && current.attempts === attempt && current.note === undefined;
      }, 60_000, 50);
      await sleep(800);
      return daemon.restart();
    };
    const finished = (id: string) =>
      waitFor("the build to finish", async () => {
        const current = await view(stack!, id);
        return ["queued", "fetching", "building", "starting"].includes(current.state) ? undefined : current;
      }, 120_000, 200).catch(() => undefined);

    // Once: the build is tried again when Docker is back, and succeeds.
    const once = `docker once ${Math.random().toString(36).slice(2, 8)}`;
    // Long enough that the daemon's stop (2 s shutdown timeout here) kills the RUN step rather than waiting it out.
    await slowCommit(work, "docker/once", once, 15);
    const first = JSON.parse((await stack.api("POST", "/api/builds", { source: SOURCE, branch: "docker/once" })).body) as BuildView;
    const downOnce = await restartDuring(first.id, 1);
    const onceDone = await finished(first.id);
    if (onceDone?.state !== "ready") log(`  its log:\n${(await stack.api("GET", `/api/builds/${first.id}/log`)).body.slice(-3000)}`);
    if (checks.that(onceDone?.state === "ready" && onceDone.attempts === 2, `one restart: the build ended ${onceDone?.state} after ${onceDone?.attempts} attempts: ${onceDone?.reason ?? ""}`)) survivedOnce += 1;
    log(`  docker restart during a build (down ${downOnce} ms): ${onceDone?.state}, ${onceDone?.attempts} attempts ${onceDone?.reason ?? ""}`);

    // Twice: the second interruption fails the build, with the reason.
    await slowCommit(work, "docker/twice", `docker twice ${Math.random().toString(36).slice(2, 8)}`, 15);
    const second = JSON.parse((await stack.api("POST", "/api/builds", { source: SOURCE, branch: "docker/twice" })).body) as BuildView;
    await restartDuring(second.id, 1);
    await restartDuring(second.id, 2);
    const twiceDone = await finished(second.id);
    if (checks.that(twiceDone?.state === "failed" && /Docker stopped during the build again/.test(twiceDone.reason ?? ""), `two restarts: the build ended ${twiceDone?.state}: ${twiceDone?.reason ?? ""}`)) survivedTwice += 1;
    log(`  docker restarted twice during a build: ${twiceDone?.state}: ${twiceDone?.reason}`);
    const status = JSON.parse((await stack.api("GET", "/api/status")).body) as { docker?: { state: string } };
    checks.that(status.docker?.state === "ok", `/api/status says Docker is ${status.docker?.state}`);
    const failed = checks.failures.length ? `; FAILED: ${checks.failures.join("; ")}` : "";
    return [
      { fault: "Docker daemon restart during a preview build", injected: 1, survived: survivedOnce, lost: 1 - survivedOnce, detail: `the build waited for Docker and ran once more: ${onceDone?.state} after ${onceDone?.attempts} attempts${failed}` },
      { fault: "Docker daemon restarted twice during one build", injected: 1, survived: survivedTwice, lost: 0, detail: `failed with the reason: ${twiceDone?.reason ?? "none"}${failed}` },
    ];
  } finally {
    await stack?.close().catch(() => {});
    if (previousHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = previousHost;
    await daemon.stop();
    await rm(root, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, (_args, log) => dockerRestartInsideNamespace(log));
