// The CLI's preview builds: `preview <source> <branch|commit>` asks for one, `builds` lists, follows and cancels;
// `deliveries` lists GitHub's webhook deliveries.
import { stdout, type Output } from "./output.js";
import type { BuildView, DeliveryView } from "../api/views.js";
import type { Config } from "../config/load.js";
import { callApi, controllerUrl } from "./api-client.js";
import { formatTable } from "./table.js";
import { systemScheduler } from "../clock/system-scheduler.js";


const FINISHED = new Set(["ready", "failed", "cancelled", "timed-out"]);
const COMMIT = /^[0-9a-f]{7,40}$/;

/** The branch (with the commit it resolved to) or the commit a build is of. */
function refOf(build: BuildView): string {
  return build.branch ? `${build.branch}${build.commit ? ` @ ${build.commit.slice(0, 12)}` : ""}` : (build.commit ?? "").slice(0, 12);
}

function line(build: BuildView): string {
  return `${build.id}  ${build.source} ${build.state} ${refOf(build)}${build.image ? `  ${build.image}` : ""}${build.url ? `  ${build.url}` : ""}${build.reason ? `\n  reason: ${build.reason}` : ""}`;
}

/** A ref of 7 to 40 hex digits is a commit; anything else is a branch (git's rules are checked by the controller). */
export async function runPreview(config: Config, source: string, ref: string, options: { wait?: number; json?: boolean }, out: Output = stdout): Promise<number> {
  const body = COMMIT.test(ref) ? { source, commit: ref } : { source, branch: ref };
  let build = (await callApi(config, "POST", "/api/builds", body)).data as BuildView;
  const deadline = systemScheduler.now() + (options.wait ?? 0) * 1000;
  while (options.wait && !FINISHED.has(build.state) && systemScheduler.now() < deadline) {
    await systemScheduler.sleep(500);
    build = (await callApi(config, "GET", `/api/builds/${build.id}`)).data as BuildView;
  }
  out.line(options.json ? JSON.stringify(build, null, 2) : line(build));
  return build.state === "failed" || build.state === "timed-out" || build.state === "cancelled" ? 1 : 0;
}

export async function runBuilds(config: Config, action: string | undefined, id: string | undefined, options: { follow?: boolean; json?: boolean }, out: Output = stdout): Promise<number> {
  if (action === undefined || action === "ls") {
    const builds = ((await callApi(config, "GET", "/api/builds")).data as { builds: BuildView[] }).builds;
    if (options.json) out.line(JSON.stringify(builds, null, 2));
    else if (builds.length === 0) out.line("no builds");
    else out.line(formatTable(["ID", "SOURCE", "REF", "STATE", "URL", "REASON"], builds.map((build) => [build.id, build.source, refOf(build), build.state, build.url ?? "", build.reason ?? ""])));
    return 0;
  }
  if (action !== "log" && action !== "cancel") throw new Error(`builds: unknown action ${JSON.stringify(action)}; allowed: ls, log <id> [-f], cancel <id>`);
  if (!id) throw new Error(`builds ${action}: name the build id (see \`demo-launcher builds ls\`)`);
  if (action === "cancel") {
    await callApi(config, "DELETE", `/api/builds/${encodeURIComponent(id)}`);
    out.line(`cancelled ${id}`);
    return 0;
  }
  // The log streams as it is written; check the build exists first for a clear message.
  await callApi(config, "GET", `/api/builds/${encodeURIComponent(id)}`);
  const response = await fetch(`${controllerUrl(config)}/api/builds/${encodeURIComponent(id)}/log${options.follow ? "?follow=1" : ""}`, { headers: config.adminToken ? { authorization: `Bearer ${config.adminToken}` } : {} });
  if (!response.body) return 1;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) out.write(chunk);
  return 0;
}


export async function runDeliveries(config: Config, options: { json?: boolean }, out: Output = stdout): Promise<number> {
  const deliveries = ((await callApi(config, "GET", "/api/deliveries")).data as { deliveries: DeliveryView[] }).deliveries;
  if (options.json) out.line(JSON.stringify(deliveries, null, 2));
  else if (deliveries.length === 0) out.line("no deliveries");
  else {
    for (const delivery of deliveries) {
      const what = [delivery.repo, delivery.pr ? `#${delivery.pr}` : undefined, delivery.commit?.slice(0, 12)].filter(Boolean).join(" ");
      const times = delivery.received > 1 ? ` (sent ${delivery.received} times)` : "";
      out.line(`${delivery.receivedAt}  ${delivery.id}  ${delivery.event.padEnd(12)} ${delivery.outcome.padEnd(8)} ${what}${delivery.build ? `  build ${delivery.build}` : ""}${times}${delivery.reason ? `\n  ${delivery.reason}` : ""}`);
    }
  }
  return 0;
}
