// kill -9 of the controller during rewinds (PostgreSQL and MariaDB) and during scheduled resets of a shared demo:
// after the restart every job is done or failed (never running forever), a done rewind holds the source row for
// row, each shared host is served by exactly its replicas, and no container, volume or scratch database is left.
import type { JobView } from "../../src/api/views.js";
import { containerOf, execIn, notesRows } from "../support/container-exec.js";
import { EXAMPLE_APPS_YAML, ensureExampleImages } from "../support/example-images.js";
import { namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";
import { demoStatus, launch, routedHosts, sleep } from "./common.js";
import { Checks, type Row } from "./report.js";


async function volumes(stack: Stack): Promise<number> {
  return ((await stack.docker.listVolumes()).Volumes ?? []).length;
}

async function restartAfterKill(stack: Stack, pauseMs: number): Promise<void> {
  await sleep(pauseMs);
  stack.child!.kill("SIGKILL");
  await stack.child!.catch(() => {});
  await stack.startChild();
}

export async function rewindKills(rounds: number, log: (line: string) => void): Promise<Row[]> {
  await ensureExampleImages();
  const stack = await startStack({ controller: "child", appsYaml: EXAMPLE_APPS_YAML, limitsYaml: "limits: { maxDemos: 4, perClient: 4 }" });
  const checks = new Checks();
  const volumesBefore = await volumes(stack);
  const outcomes: string[] = [];
  let survived = 0;
  try {
    const notes = await launch(stack, "notes");
    const wordpress = await launch(stack, "wordpress");
    for (const id of [notes, wordpress]) await waitFor(`demo ${id}`, async () => (await demoStatus(stack, id))?.status === "ready", 90_000);
    const notesContainer = await containerOf(stack.docker, notes);
    const wordpressContainer = await containerOf(stack.docker, wordpress);
    const source = await notesRows(stack.docker, notesContainer);
    for (let round = 1; round <= rounds; round += 1) {
      const failuresBefore = checks.failures.length;
      await execIn(stack.docker, notesContainer, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", `INSERT INTO notes (text) VALUES ('round ${round}')`], "postgres");
      await execIn(stack.docker, wordpressContainer, ["mariadb", "wordpress", "-e", `UPDATE wp_options SET option_value = 'round ${round}' WHERE option_name = 'blogname'`]);
      const jobs: Array<[string, JobView]> = [];
      for (const id of [notes, wordpress]) jobs.push([id, JSON.parse((await stack.api("POST", `/api/demos/${id}/rewind`, {})).body) as JobView]);
      // Anywhere from before the restore starts to the middle of the swap.
      await restartAfterKill(stack, Math.random() * 1200);
      for (const [id, job] of jobs) {
        const settled = await waitFor(`round ${round}: job ${job.id} to finish`, async () => {
          const view = JSON.parse((await stack.api("GET", `/api/jobs/${job.id}`)).body) as JobView;
          return view.status === "done" || view.status === "failed" ? view : undefined;
        }, 60_000, 200).catch(() => undefined);
        if (!checks.that(settled !== undefined, `round ${round}: job of ${id} still not finished 60 s after the restart`)) continue;
        outcomes.push(`${settled!.status}/${settled!.attempts}`);
        checks.that(settled!.status === "done" || Boolean(settled!.reason), `round ${round}: a failed job without a reason`);
        checks.that((await demoStatus(stack, id))?.status === "ready", `round ${round}: demo ${id} is not ready after the restart`);
      }
      if (outcomes.at(-2)?.startsWith("done")) checks.that((await notesRows(stack.docker, notesContainer)) === source, `round ${round}: the rewound notes database differs from the source`);
      if (outcomes.at(-1)?.startsWith("done")) checks.that(!(await execIn(stack.docker, wordpressContainer, ["mariadb", "-N", "wordpress", "-e", "SELECT option_value FROM wp_options WHERE option_name = 'blogname'"])).includes("round"), `round ${round}: the rewound WordPress still has the change`);
      const scratch = (await execIn(stack.docker, notesContainer, ["psql", "-X", "-At", "-U", "postgres", "-d", "postgres", "-c", "SELECT datname FROM pg_database WHERE datname LIKE 'notes__rewind' OR datname LIKE 'notes__old'"], "postgres")).trim();
      const scratchMaria = (await execIn(stack.docker, wordpressContainer, ["mariadb", "-N", "-e", "SHOW DATABASES LIKE 'wordpress\\_\\_%'"])).trim();
      checks.that(scratch === "" && scratchMaria === "", `round ${round}: scratch databases left: ${scratch} ${scratchMaria}`);
      if (checks.failures.length === failuresBefore) survived += 1;
      else log(`  round ${round}: ${checks.failures.slice(failuresBefore).join("; ")}`);
    }
    checks.that((await namespaceContainers(stack.docker, stack.namespace)).length === 2, "containers other than the two demos' are left");
    checks.that((await volumes(stack)) === volumesBefore, "volumes were left behind");
  } finally {
    await stack.close();
  }
  const rows: Row[] = [{ fault: "controller `kill -9` during rewinds (PostgreSQL, MariaDB)", injected: rounds, survived, lost: rounds - survived, detail: `${outcomes.length} jobs after the restarts: ${outcomes.filter((o) => o.startsWith("done")).length} done, ${outcomes.filter((o) => o.startsWith("failed")).length} failed (status/attempts: ${outcomes.join(" ")}); done ones equal the source row for row; no scratch database, container or volume left${checks.summary()}` }];
  return [...rows, ...(await resetKills(rounds, log))];
}

async function resetKills(rounds: number, log: (line: string) => void): Promise<Row[]> {
  const stack = await startStack({ controller: "child", nginxYaml: "  drain: 1s", extraYaml: 'shared:\n  try-it: { app: hello, replicas: 2, reset: "*/4 * * * * *" }' });
  const checks = new Checks();
  let survived = 0;
  const shared = async () => (JSON.parse((await stack.api("GET", "/api/shared")).body).shared as Array<{ instances: Array<{ health: string }>; lastReset?: { status: string; startedAt: string } }>)[0]!;
  try {
    await waitFor("the shared demo", async () => (await shared()).instances.filter((instance) => instance.health === "healthy").length === 2, 30_000);
    for (let round = 1; round <= rounds; round += 1) {
      const failuresBefore = checks.failures.length;
      // Somewhere inside one of the 4-second reset cycles.
      await restartAfterKill(stack, 1000 + Math.random() * 4000);
      const settled = await waitFor(`round ${round}: two replicas and no reset stuck`, async () => {
        const view = await shared();
        const containers = (await namespaceContainers(stack.docker, stack.namespace)).filter((info) => info.State === "running");
        const routes = await routedHosts(stack);
        const stuck = view.lastReset?.status === "running" && Date.now() - Date.parse(view.lastReset.startedAt) > 20_000;
        return !stuck && containers.length === 2 && routes.backends.get("try-it.demo.localhost")?.length === 2 && view.instances.length === 2;
      }, 30_000, 100).then(() => true, () => false);
      checks.that(settled, `round ${round}: not exactly two serving replicas within 30 s of the restart`);
      if (checks.failures.length === failuresBefore) survived += 1;
      else log(`  round ${round}: ${checks.failures.slice(failuresBefore).join("; ")}`);
    }
  } finally {
    await stack.close();
  }
  return [{ fault: "controller `kill -9` during scheduled resets (2 replicas)", injected: rounds, survived, lost: rounds - survived, detail: `after every restart exactly 2 replicas served the host and ran in Docker (drained extras removed), no reset stuck running${checks.summary()}` }];
}
