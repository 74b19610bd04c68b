// Benchmark section: previews of examples/node-app, each figure beside its floor measured in the same run: a cold
// build + start against `docker build` + `docker run` by hand, rebuilds against the cold build, and a second
// request of a built commit and a wake from idle against a plain cold launch of the same image.
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { branchLabel } from "../src/core/previews/preview-names.js";
import { request, startStack, waitFor } from "../test/support/stack.js";
import { median, round, until200 } from "./measure.js";
import { GREETING, nodeAppFixture, POLL_MS } from "./node-app.js";
import type { DemoView } from "../src/api/views.js";

export interface PreviewResults {
  rounds: number;
  /** /preview of a new commit → first 200 of the app through nginx. */
  coldBuildAndStartMs: number;
  /** docker build + docker run + first 200 on its port, by hand, of the same context. */
  floorBuildAndRunMs: number;
  coldRatio: number;
  /** POST /api/builds → image ready (queued → starting), for a new commit, the same commit again, a source-only change. */
  coldBuildMs: number;
  rebuildNoChangeMs: number;
  rebuildNoChangeShare: number;
  sourceOnlyMs: number;
  sourceOnlyShare: number;
  /** A built commit whose preview had ended, asked for again → first 200 through nginx. */
  builtCommitMs: number;
  /** A plain launch of the same image as a visitor's app → first 200 through nginx. */
  coldLaunchMs: number;
  builtCommitRatio: number;
  wakeMs: number;
  wakeRatio: number;
}

export async function previewsBench(rounds: number, log: (line: string) => void): Promise<PreviewResults> {
  const { root, work, git, bust, run, floorRun, floorTags, floor } = await nodeAppFixture("previews");
  await floorRun(0);
  const stack = await startStack({
    nginxYaml: "  drain: 1s",
    appsYaml: `  nodeapp:\n    image: ${floorTags[0]}\n    port: 3000\n    memory: 256m\n    banner: false\n    readiness: { path: /healthz, timeout: 60s }`,
    limitsYaml: "limits: { maxDemos: 20, perClient: 100 }",
    extraYaml: `previews:\n  bench: { repo: ${JSON.stringify(work)}, port: 3000, memory: 256m, readiness: { path: /healthz, timeout: 60s } }\n  idle: { repo: ${JSON.stringify(work)}, port: 3000, memory: 256m, idleStop: 2s, readiness: { path: /healthz, timeout: 60s } }`,
  });
  const api = async <T>(method: string, url: string, body?: unknown) => JSON.parse((await stack.api(method, url, body)).body) as T;
  /** POST /api/builds → the build has its image (starting or ready). */
  const timeBuild = async (ref: { branch?: string; commit?: string }, source = "bench") => {
    const started = performance.now();
    const { id } = await api<{ id: string }>("POST", "/api/builds", { source, ...ref });
    await waitFor(`build ${id}`, async () => {
      const view = await api<{ state: string; reason?: string }>("GET", `/api/builds/${id}`);
      if (view.state === "failed") throw new Error(view.reason);
      return view.state === "starting" || view.state === "ready";
    }, 180_000, 5);
    return performance.now() - started;
  };
  const results = { cold: [] as number[], coldBuild: [] as number[], same: [] as number[], sourceOnly: [] as number[], built: [] as number[], launch: [] as number[], wake: [] as number[] };
  try {
    for (let index = 0; index < rounds; index += 1) {
      if (index > 0) await floorRun(index);
      // Cold: a new commit on a new branch, asked for by URL, until the app answers through nginx.
      const branch = `bench/cold-${index}`;
      await git(["checkout", "-q", "-b", branch, "main"]);
      await bust(work, `ours ${run} ${index}`);
      await git(["commit", "-q", "-am", `cold ${index}`]);
      const started = performance.now();
      const entry = await request(stack.nginxPort, { host: "demo.localhost", path: `/preview?source=bench&branch=${encodeURIComponent(branch)}` });
      const host = (JSON.parse(entry.body) as DemoView).host;
      results.cold.push(await until200(stack.nginxPort, host, "/", GREETING, started, 180_000, POLL_MS));

      // The build alone: a new commit again (cold), the same commit on another branch, a source-only change.
      await bust(work, `ours ${run} ${index} build`);
      await git(["commit", "-q", "-am", `cold build ${index}`]);
      results.coldBuild.push(await timeBuild({ commit: (await git(["rev-parse", "HEAD"])).stdout.trim() }));
      await git(["branch", "-q", `bench/same-${index}`]);
      results.same.push(await timeBuild({ branch: `bench/same-${index}` }));
      await writeFile(path.join(work, "server.js"), `${await readFile(path.join(work, "server.js"), "utf8")}// ${run} ${index}\n`);
      await git(["commit", "-q", "-am", `source ${index}`]);
      results.sourceOnly.push(await timeBuild({ commit: (await git(["rev-parse", "HEAD"])).stdout.trim() }));

      // A built commit whose preview ended: served again from its image, against a plain cold launch of the same image.
      const commitHost = `${(await api<{ builds: Array<{ branch?: string; commit?: string }> }>("GET", "/api/builds")).builds.find((build) => build.branch === branch)!.commit!.slice(0, 12)}`;
      const label = `bench-commit-${commitHost}`;
      await stack.api("DELETE", `/api/demos/${label}`);
      await stack.api("DELETE", `/api/demos/${branchLabel("bench", branch)}`);
      const again = performance.now();
      await request(stack.nginxPort, { host: "demo.localhost", path: `/preview?source=bench&commit=${commitHost}` });
      results.built.push(await until200(stack.nginxPort, `${label}.demo.localhost`, "/", GREETING, again, 60_000, POLL_MS));
      const launched = performance.now();
      const visitor = await api<{ id: string; host: string }>("POST", "/api/demos", { app: "nodeapp" });
      results.launch.push(await until200(stack.nginxPort, visitor.host, "/", GREETING, launched, 60_000, POLL_MS));
      await stack.api("DELETE", `/api/demos/${visitor.id}`);
      await git(["checkout", "-q", "main"]);
    }
    // Wake from idle: the idle source's preview sleeps after 2 s without requests; a request wakes it.
    await request(stack.nginxPort, { host: "demo.localhost", path: "/preview?source=idle&branch=main" });
    const idleHost = `${branchLabel("idle", "main")}.demo.localhost`;
    await until200(stack.nginxPort, idleHost, "/", GREETING, performance.now(), 180_000, POLL_MS);
    for (let index = 0; index < rounds; index += 1) {
      // Asleep means unrouted and its container stopped.
      await waitFor("the idle preview to sleep", async () => {
        if ((await api<{ status: string }>("GET", `/api/demos/${branchLabel("idle", "main")}`)).status !== "asleep") return false;
        const containers = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${branchLabel("idle", "main")}`] } });
        return containers.length === 1 && containers[0]!.State === "exited";
      }, 60_000, 100);
      const woken = performance.now();
      results.wake.push(await until200(stack.nginxPort, idleHost, "/", GREETING, woken, 60_000, POLL_MS));
    }
  } finally {
    await stack.close();
    for (const tag of floorTags) await execa("docker", ["rmi", "-f", tag], { reject: false });
    const images = await stack.docker.listImages({ filters: { reference: ["demo-launcher-preview/bench", "demo-launcher-preview/idle"] } });
    for (const image of images) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
  const m = (values: number[]) => round(median(values));
  const out: PreviewResults = {
    rounds,
    coldBuildAndStartMs: m(results.cold),
    floorBuildAndRunMs: m(floor),
    coldRatio: round(median(results.cold) / median(floor), 2),
    coldBuildMs: m(results.coldBuild),
    rebuildNoChangeMs: m(results.same),
    rebuildNoChangeShare: round(median(results.same) / median(results.coldBuild), 3),
    sourceOnlyMs: m(results.sourceOnly),
    sourceOnlyShare: round(median(results.sourceOnly) / median(results.coldBuild), 2),
    builtCommitMs: m(results.built),
    coldLaunchMs: m(results.launch),
    builtCommitRatio: round(median(results.built) / median(results.launch), 2),
    wakeMs: m(results.wake),
    wakeRatio: round(median(results.wake) / median(results.launch), 2),
  };
  log(`previews: ${JSON.stringify(out)}`);
  return out;
}

export function previewRows(r: PreviewResults): string[][] {
  return [
    [`Preview cold build + start of examples/node-app (${r.rounds} rounds)`, `${r.coldBuildAndStartMs} ms`, `docker build + run by hand ${r.floorBuildAndRunMs} ms`, `${r.coldRatio}× floor (target ≤ 1.15)`],
    ["Preview rebuild, no change / source-only change", `${r.rebuildNoChangeMs} / ${r.sourceOnlyMs} ms`, `cold build ${r.coldBuildMs} ms`, `${r.rebuildNoChangeShare} / ${r.sourceOnlyShare} of cold (targets ≤ 0.10 / ≤ 0.40)`],
    ["Second request of a built commit / wake from idle", `${r.builtCommitMs} / ${r.wakeMs} ms`, `plain cold launch ${r.coldLaunchMs} ms`, `${r.builtCommitRatio}× / ${r.wakeRatio}× (targets ≤ 1.3 / ≤ 1.5)`],
  ];
}
