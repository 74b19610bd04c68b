// kill -9 of the controller at random points of a loop of launches and expiries; after each restart
// nothing may be orphaned, stale, lost or overdue.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isJson } from "../../src/http/server.js";
import { startStack, waitFor } from "../support/stack.js";
import { appYaml, consistency, demoStatus, launch, listDemos, nginxAccepts, percentile, served, signGuestbook, sleep } from "./common.js";
import { Checks, type Row } from "./report.js";

const REAPER_MS = 1000;
/** Removing a container takes Docker a moment after the reaper decides. */
const REMOVAL_SLACK_MS = 1500;

export async function killLoop(cycles: number, log: (line: string) => void): Promise<Row[]> {
  const stack = await startStack({
    controller: "child",
    appsYaml: [appYaml("keeper", { ttl: "30m" }), appYaml("brief", { ttl: "5s" }), appYaml("slow", { ttl: "8s", env: { START_DELAY: "1" } })].join("\n"),
    limitsYaml: "limits: { maxDemos: 60, perClient: 5, queueLength: 0 }",
  });
  const checks = new Checks();
  let survived = 0;
  let lost = 0;
  const launched: string[] = [];
  const restartToServing: number[] = [];
  let readyChecked = 0;
  let worstOverdue = 0;
  try {
    // A visitor's demo that lives through every kill, with something they wrote in it.
    const keeperId = await launch(stack, "keeper");
    const keeper = await waitFor("the keeper demo", async () => ((await demoStatus(stack, keeperId))?.status === "ready" ? demoStatus(stack, keeperId) : undefined), 30_000);
    await signGuestbook(stack, keeper!.host, "written before the kills");

    for (let cycle = 1; cycle <= cycles; cycle += 1) {
      const failuresBefore = checks.failures.length;
      const lostBefore = lost;
      // Launches, maybe a stop, and time for expiries; then the kill lands wherever they are.
      const apps = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => (Math.random() < 0.5 ? "brief" : "slow"));
      const ids = await Promise.all(apps.map((app) => launch(stack, app)));
      launched.push(...ids);
      const live = await listDemos(stack);
      const stoppable = live.filter((demo) => demo.app !== "keeper" && demo.status === "ready");
      if (stoppable.length > 0 && Math.random() < 0.3) void stack.api("DELETE", `/api/demos/${stoppable[0]!.id}`).catch(() => {});
      await sleep(Math.random() * 1500);
      const readyBefore = (await listDemos(stack)).filter((demo) => demo.status === "ready");
      stack.child!.kill("SIGKILL");
      await stack.child!.catch(() => {});
      await sleep(Math.random() * 800);

      const restartedAt = Date.now();
      await stack.startChild();
      // Every demo that was ready and is not yet due is served at once, without waiting for anything.
      const due = Date.now() + 500;
      const stillDue = readyBefore.filter((demo) => Date.parse(demo.expiresAt!) > due);
      const servedAll = await waitFor("ready demos to be served", async () => (await Promise.all(stillDue.map((demo) => served(stack, demo.host)))).every(Boolean), 5000).catch(() => false);
      restartToServing.push(Date.now() - restartedAt);
      readyChecked += stillDue.length;
      if (!checks.that(servedAll === true, `cycle ${cycle}: a ready demo was not served after the restart`)) lost += 1;
      const nowLive = new Set((await listDemos(stack)).map((demo) => demo.id));
      for (const demo of stillDue) {
        if (Date.parse(demo.expiresAt!) > Date.now() + 200 && !checks.that(nowLive.has(demo.id), `cycle ${cycle}: ready demo ${demo.id} was lost`)) lost += 1;
      }
      // Like a browser, a GET whose connection a retiring nginx worker closed is sent once more; what came back is reported.
      const first = await stack.viaNginx(keeper!.host, "/").catch((error: Error) => error);
      const page = first instanceof Error ? await stack.viaNginx(keeper!.host, "/").catch((error: Error) => error) : first;
      const kept = !(page instanceof Error) && page.status === 200 && page.body.includes("written before the kills");
      const got = page instanceof Error ? page.message : `HTTP ${page.status} ${JSON.stringify(page.body.replace(/\s+/g, " ").slice(0, 120))}`;
      if (!checks.that(kept, `cycle ${cycle}: the keeper's guestbook entry is gone (got ${got})`)) lost += 1;

      // Launches caught by the kill settle (ready, or failed and removed) before the books are checked.
      await waitFor("launches to settle", async () => (await listDemos(stack)).every((demo) => demo.status !== "starting"), 20_000).catch(() => checks.that(false, `cycle ${cycle}: a launch stayed 'starting' for 20 s`));
      const state = await waitFor(
        "Docker, the controller and the routes file to agree",
        async () => {
          const found = await consistency(stack, REAPER_MS + REMOVAL_SLACK_MS);
          return found.orphans.length + found.staleRoutes.length + found.unrouted.length + found.overdue.length === 0 ? found : undefined;
        },
        3000,
      ).catch(() => consistency(stack, REAPER_MS + REMOVAL_SLACK_MS));
      worstOverdue = Math.max(worstOverdue, state.overdue[0] ?? 0);
      for (const [what, list] of [["orphan container", state.orphans], ["stale route", state.staleRoutes], ["ready demo without a route", state.unrouted]] as const) {
        if (list.length > 0) {
          checks.that(false, `cycle ${cycle}: ${what}(s) ${list.join(", ")}`);
          lost += list.length;
        }
      }
      if (state.overdue.length > 0) {
        checks.that(false, `cycle ${cycle}: ${state.overdue.length} container(s) past expiry by up to ${state.overdue[0]} ms`);
        lost += state.overdue.length;
      }
      if (!checks.that(await nginxAccepts(stack), `cycle ${cycle}: the routes file on disk fails nginx -t`)) lost += 1;
      const stateText = await readFile(path.join(stack.config.stateDir, "state.json"), "utf8").catch(() => "{}");
      if (!checks.that(isJson(stateText), `cycle ${cycle}: the state file is not readable JSON`)) lost += 1;

      const ok = checks.failures.length === failuresBefore && lost === lostBefore;
      if (ok) survived += 1;
      log(`  kill ${cycle}/${cycles}: ${readyBefore.length} ready before, ${stillDue.length} checked after, ${ok ? "ok" : checks.failures.slice(failuresBefore).join("; ")}`);
    }
    const outcomes = await Promise.all(launched.map(async (id) => (await demoStatus(stack, id))?.status ?? "unknown"));
    const count = (status: string) => outcomes.filter((outcome) => outcome === status).length;
    return [
      {
        fault: "controller kill -9 during launches and expiries",
        injected: cycles,
        survived,
        lost,
        detail:
          `${launched.length} launches (${count("expired")} expired on time, ${count("ready")} still ready, ${count("stopped")} stopped, ${count("failed")} failed, ${count("unknown")} killed before Docker had them); ` +
          `${readyChecked} ready demos checked after restarts, all served; restart to serving p50 ${percentile(restartToServing, 50)} ms, max ${Math.max(...restartToServing)} ms; ` +
          `worst overdue container ${worstOverdue} ms (reaper ${REAPER_MS} ms)` +
          (checks.failures.length ? `; FAILED: ${checks.failures.slice(0, 5).join("; ")}` : ""),
      },
    ];
  } finally {
    await stack.close();
  }
}
