// A Docker daemon restart while demos run: the controller notices, reconnects, re-syncs and serves again
// without a restart of its own. Runs against the suite's own dockerd, never the host's.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { buildSampleImage, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { startStack, waitFor, type Stack } from "../support/stack.js";
import { appYaml, demoStatus, launch, served, signGuestbook } from "./common.js";
import { PrivateDockerd, runIfMain, runInOwnNetns } from "./private-dockerd.js";
import { Checks, type Row } from "./report.js";

/** Runs the scenario in a network namespace of its own (see runInOwnNetns). */
export function dockerRestart(restarts: number, log: (line: string) => void): Promise<Row[]> {
  return runInOwnNetns(fileURLToPath(import.meta.url), [String(restarts)], log);
}

async function insideNamespace(restarts: number, log: (line: string) => void): Promise<Row[]> {
  const daemon = await PrivateDockerd.start();
  const previousHost = process.env.DOCKER_HOST;
  // The stack, the child controller and every Docker client in this process talk to the private daemon.
  process.env.DOCKER_HOST = daemon.host;
  let stack: Stack | undefined;
  const checks = new Checks();
  let survived = 0;
  let lost = 0;
  const downtimes: number[] = [];
  const recoveries: number[] = [];
  let demosChecked = 0;
  let launchedDuringOutage = 0;
  try {
    if (!(await sampleImageIsCurrent(daemon.docker))) await buildSampleImage(daemon.docker);
    stack = await startStack({ controller: "child", appsYaml: appYaml("hello", { ttl: "30m" }) });
    let output = "";
    const follow = () => stack!.child!.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    follow();
    const pid = stack.child!.pid;
    const demos: Array<{ id: string; host: string }> = [];
    for (let i = 0; i < 3; i += 1) {
      const id = await launch(stack, "hello");
      const view = await waitFor(`demo ${id} ready`, async () => ((await demoStatus(stack!, id))?.status === "ready" ? demoStatus(stack!, id) : undefined), 30_000);
      demos.push({ id, host: view!.host });
      await signGuestbook(stack, view!.host, `entry of demo ${i}`);
    }
    for (let round = 1; round <= restarts; round += 1) {
      const failuresBefore = checks.failures.length;
      const lostBefore = lost;
      const outageLogsBefore = count(output, "Docker is not answering");
      const restartedAt = Date.now();
      // A visitor presses the button while the daemon is away: they wait, they do not get an error.
      const restart = daemon.restart();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const duringOutage = await stack.api("POST", "/api/demos", { app: "hello" });
      checks.that(duringOutage.status === 201, `round ${round}: a launch during the outage answered ${duringOutage.status}`);
      const waitingId = duringOutage.status === 201 ? (JSON.parse(duringOutage.body) as { id: string }).id : undefined;
      if (waitingId) launchedDuringOutage += 1;
      downtimes.push(await restart);

      const allBack = await waitFor("every demo served again", async () => (await Promise.all(demos.map((demo) => served(stack!, demo.host)))).every(Boolean), 60_000).catch(() => false);
      recoveries.push(Date.now() - restartedAt);
      demosChecked += demos.length;
      if (!checks.that(allBack === true, `round ${round}: not every demo was served again within 60 s`)) lost += demos.length;
      for (const [index, demo] of demos.entries()) {
        const kept = await waitFor("the visitor's entry", () => served(stack!, demo.host, `entry of demo ${index}`), 5000).catch(() => false);
        if (!checks.that(kept === true, `round ${round}: demo ${demo.id} lost its visitor's entry (it serves: ${(await stack.viaNginx(demo.host, "/").catch(() => undefined))?.body.replace(/\s+/g, " ").slice(0, 300)})`)) lost += 1;
      }
      if (waitingId) {
        const view = await waitFor("the launch made during the outage", async () => {
          const current = await demoStatus(stack!, waitingId);
          return current && current.status !== "starting" ? current : undefined;
        }, 60_000).catch(() => undefined);
        if (checks.that(view?.status === "ready", `round ${round}: the launch made during the outage ended ${view?.status ?? "nowhere"}: ${view?.reason ?? ""}`)) {
          demos.push({ id: waitingId, host: view!.host });
          await signGuestbook(stack, view!.host, `entry of demo ${demos.length - 1}`);
        } else lost += 1;
      }
      checks.that(stack.child!.pid === pid && stack.child!.exitCode === null, `round ${round}: the controller restarted or died`);
      const status = JSON.parse((await stack.api("GET", "/api/status")).body) as { docker?: { state: string } };
      checks.that(status.docker?.state === "ok", `round ${round}: /api/status says Docker is ${status.docker?.state}`);
      checks.that(count(output, "Docker is not answering") - outageLogsBefore <= 1, `round ${round}: the outage was logged more than once`);
      const ok = checks.failures.length === failuresBefore && lost === lostBefore;
      if (ok) survived += 1;
      log(`  docker restart ${round}/${restarts}: down ${downtimes.at(-1)} ms, all ${demos.length} demos served again after ${recoveries.at(-1)} ms, ${ok ? "ok" : checks.failures.slice(failuresBefore).join("; ")}`);
    }
    return [
      {
        fault: "Docker daemon restart (containers stopped with it)",
        injected: restarts,
        survived,
        lost,
        detail:
          `daemon down ${Math.min(...downtimes)}–${Math.max(...downtimes)} ms; ${demosChecked} demo checks, each served again with its visitor's data, ${Math.max(...recoveries)} ms at worst from the stop; ` +
          `${launchedDuringOutage} launch(es) made during the outage waited and became ready; the controller kept its pid; outage logged once per restart` +
          (checks.failures.length ? `; FAILED: ${checks.failures.slice(0, 5).join("; ")}` : ""),
      },
    ];
  } finally {
    // The controller's own account of the outage, for whoever reads a failed run.
    if (stack) await writeFile(path.join(PACKAGE_ROOT, "test-output/chaos-docker-controller.log"), stack.childOutput).catch(() => {});
    await stack?.close().catch(() => {});
    if (previousHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = previousHost;
    await daemon.stop();
  }
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

// Run by dockerRestart inside the namespace: prints progress, then the rows on one line.
runIfMain(import.meta.url, (args, log) => insideNamespace(Number(args[0] ?? 1), log));
