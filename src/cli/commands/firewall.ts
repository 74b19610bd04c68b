// `firewall [--check]`: the demo and build networks' egress rules put in place (root), or only checked.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type Docker from "dockerode";
import type { Config } from "../../config/load.js";
import { guardedNetworks } from "../../app/controller.js";
import { connectDocker, ensureBridgeNetwork } from "../../docker/runtime.js";
import { applyFirewall, checkFirewall } from "../../firewall/iptables.js";
import { bridgePolicies } from "../../firewall/keeper.js";
import { describeEgress } from "../../firewall/rules.js";
import type { Output } from "../output.js";

export function defineFirewall(program: Command, cli: CliContext): void {
  program
    .command("firewall")
    .summary("put the demo networks' egress rules in place (as root; the controller does this itself when it runs as root)")
    .description("put the demo and build networks' egress rules in place (as root; the controller does it itself when it runs as root, the systemd unit before it starts); --check only says whether they hold")
    .option("--check", "only say whether they hold (exit code 1 when not)")
    .action(cli.withConfig((config, options: { check?: boolean }) => runFirewall(config, connectDocker(), options, cli)));
}

/** `demo-launcher firewall [--check]`: puts the demo networks' egress rules in place (root), or only says whether they hold. */
export async function runFirewall(config: Config, docker: Docker, options: { check?: boolean }, cli: { out: Output; err: Output }): Promise<number> {
  // Before the controller's first start the networks may not exist yet: made here as the controller would make them.
  if (!options.check) {
    for (const { network, bridge } of guardedNetworks(config)) if (!bridge) await ensureBridgeNetwork(docker, network);
  }
  const bridges = await bridgePolicies(docker, guardedNetworks(config));
  if (!options.check) await applyFirewall(bridges);
  const result = await checkFirewall(bridges);
  for (const entry of bridges) cli.out.line(`${entry.network} (${entry.bridge}): ${describeEgress(entry.egress)}`);
  if (!result.ok) cli.err.line(`demo-launcher: the demo egress rules do not hold: ${result.problems.join("; ")}`);
  return result.ok ? 0 : 1;
}
