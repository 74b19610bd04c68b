// `deliveries`: recent GitHub webhook deliveries and what became of them (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { DeliveryView } from "../../api/views.js";

export function defineDeliveries(program: Command, cli: CliContext): void {
  program
    .command("deliveries")
    .description("recent GitHub webhook deliveries and what became of them (admin)")
    .option("--json", "print JSON")
    .action(cli.withConfig((config, options: { json?: boolean }) => runDeliveries(config, options, cli.out), { client: true }));
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
