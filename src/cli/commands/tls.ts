// `tls status`: the certificate nginx is given, its issuer and end, the next renewal and the last error.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { describeTlsReport, readTlsReport } from "../../tls/tls-status.js";
import { tlsCheckOf } from "../checks/tls.js";
import { systemScheduler } from "../../clock/system-scheduler.js";

export function defineTls(program: Command, cli: CliContext): void {
  const tls = program.command("tls").summary("HTTPS: the certificate served and its renewals").description("HTTPS (tls: in the config): the certificate served and its renewals");
  tls
    .command("status")
    .description("print the certificate's names, issuer and end, the next renewal and the last error (exit 1 when none serves or it ended)")
    .option("--json", "print the controller's report as JSON")
    .action(cli.withConfig((config, options: { json?: boolean }) => runTlsStatus(config, options, cli.out), { client: true }));
}

export async function runTlsStatus(config: Config, options: { json?: boolean }, out: Output = stdout): Promise<number> {
  if (!config.tls) {
    out.line("tls: is not configured: nginx serves HTTPS with its own certificate, if any (see docs/guides/https.md)");
    return 0;
  }
  const report = await readTlsReport(config.stateDir);
  if (options.json) out.line(JSON.stringify(report ?? null, null, 2));
  else if (!report) out.line("the controller has not reported on its certificate yet (is it running? `demo-launcher serve` writes it at start)");
  else for (const line of describeTlsReport(report, systemScheduler.now())) out.line(line);
  return tlsCheckOf(report, systemScheduler.now()).ok === false ? 1 : 0;
}
