// kill -9 of the controller at random points of zero-downtime replacements, under a steady client load:
// never two routed instances for a demo, never none while it is live, every replacement ends with one container.
import { namespaceContainers, startStack, waitFor } from "../support/stack.js";
import { startLoad } from "../support/load.js";
import { ensureVersionedImages, versionedTag } from "../support/versioned-images.js";
import { appYaml, demoStatus, launch, listDemos, routedHosts, sleep } from "./common.js";
import { Checks, type Row } from "./report.js";

export async function replaceKill(rounds: number, log: (line: string) => void): Promise<Row[]> {
  const stack = await startStack({ controller: "child", appsYaml: appYaml("versioned", { image: versionedTag("v1"), timeout: "10s" }), nginxYaml: "  drain: 2s", limitsYaml: "limits: { maxDemos: 10, perClient: 5 }" });
  const checks = new Checks();
  let survived = 0;
  let lost = 0;
  const replacedAfterRestart: number[] = [];
  try {
    await ensureVersionedImages(stack.docker, ["v1", "v2"]);
    const ids = [await launch(stack, "versioned"), await launch(stack, "versioned")];
    const demos = await Promise.all(ids.map((id) => waitFor(`demo ${id}`, async () => ((await demoStatus(stack, id))?.status === "ready" ? demoStatus(stack, id) : undefined), 30_000)));
    const loads = demos.map((demo) => startLoad(stack.nginxPort, demo!.host, { pauseMs: 20 }));
    try {
      for (let round = 1; round <= rounds; round += 1) {
        const failuresBefore = checks.failures.length;
        const demo = demos[round % demos.length]!;
        const image = versionedTag(round % 4 < 2 ? "v2" : "v1");
        const answer = await stack.api("POST", `/api/demos/${demo.id}/replace`, { image });
        checks.that(answer.status === 202, `round ${round}: replace answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        // Anywhere from before the new container exists to the middle of the old one's drain.
        await sleep(Math.random() * 3000);
        stack.child!.kill("SIGKILL");
        await stack.child!.catch(() => {});
        const routes = await routedHosts(stack);
        for (const [host, backends] of routes.backends) checks.that(backends.length === 1, `round ${round}: ${host} routed to ${backends.length} instances while the controller was down`);
        checks.that(routes.backends.has(demo.host), `round ${round}: ${demo.host} had no route while the controller was down`);
        await sleep(Math.random() * 500);
        const restarted = Date.now();
        await stack.startChild();
        // The replacement is finished or given up, and after the drain one container serves each demo.
        const settled = await waitFor(`round ${round}: one container per demo`, async () => {
          const containers = await namespaceContainers(stack.docker, stack.namespace);
          const views = await Promise.all(demos.map((entry) => demoStatus(stack, entry!.id)));
          const busy = views.some((view) => (view as { replacement?: { status: string } } | undefined)?.replacement?.status === "running");
          return !busy && containers.length === demos.length && views.every((view) => view?.status === "ready");
        }, 30_000, 100).then(() => true, () => false);
        replacedAfterRestart.push(Date.now() - restarted);
        if (!checks.that(settled, `round ${round}: the demos did not settle on one container each within 30 s`)) lost += 1;
        const after = await routedHosts(stack);
        for (const entry of demos) checks.that(after.backends.get(entry!.host)?.length === 1, `round ${round}: ${entry!.host} is routed to ${after.backends.get(entry!.host)?.length ?? 0} instances after the restart`);
        if (checks.failures.length === failuresBefore) survived += 1;
        else log(`  round ${round}: ${checks.failures.slice(failuresBefore).join("; ")}`);
      }
    } finally {
      await Promise.all(loads.map((load) => load.stop()));
    }
    const answers = loads.flatMap((load) => load.answers);
    const failed = loads.flatMap((load) => load.failures);
    const bad = answers.filter((answer) => answer.status !== 200 || !/^version v[12]$/.test(answer.body.trim()));
    if (!checks.that(failed.length === 0 && bad.length === 0, `${failed.length} failed requests and ${bad.length} wrong answers under load (first: ${failed[0]?.error ?? bad[0]?.status ?? ""})`)) lost += failed.length + bad.length;
    const live = await listDemos(stack);
    checks.that(live.length === demos.length, `${live.length} demos live at the end, expected ${demos.length}`);
    const retried = loads.reduce((sum, load) => sum + load.retried, 0);
    const worst = Math.max(...replacedAfterRestart);
    return [
      {
        fault: "controller `kill -9` during replacements (under load)",
        injected: rounds,
        survived: checks.failures.length === 0 ? survived : Math.min(survived, rounds - 1),
        lost,
        detail: `${answers.length} requests to 2 demos while they were replaced and the controller killed: ${failed.length} failed, ${bad.length} not 200 or not from one of the two images (${retried} keep-alive GETs re-sent after a retiring nginx worker closed them); every host routed to exactly one instance while the controller was down and after; one container per demo ≤ ${(worst / 1000).toFixed(1)} s after each restart (drain 2 s)${checks.failures.length ? `; FAILED: ${checks.failures.join("; ")}` : ""}`,
      },
    ];
  } finally {
    await stack.close();
  }
}
