// `builds [ls|log <id> [-f]|cancel <id>]`: preview builds listed, their logs followed, cancelled (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { BuildView } from "../../api/views.js";
import { controllerUrl } from "../api-client.js";
import { formatTable } from "../table.js";
import { refOf } from "../build-words.js";

export function defineBuilds(program: Command, cli: CliContext): void {
  program
    .command("builds")
    .description("preview builds (admin): ls, log <id> [-f], cancel <id>")
    .argument("[action]", "ls (default), log or cancel")
    .argument("[id]", "the build id, for log and cancel")
    .option("-f, --follow", "with log: keep printing until the build ends")
    .option("--json", "with ls: print JSON")
    .action(cli.withConfig((config, action: string | undefined, id: string | undefined, options: { follow?: boolean; json?: boolean }) => runBuilds(config, action, id, options, cli.out), { client: true }));
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
