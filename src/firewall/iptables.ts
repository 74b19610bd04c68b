// Puts the demo bridges' chains in place with iptables (atomically per chain) and reads back whether they hold.
import { execa } from "execa";
import { chainNames, chainRules, jumpRules, restoreText, type Egress } from "./rules.js";

export interface BridgePolicy {
  network: string;
  bridge: string;
  egress: Egress;
  /** The host's DNS resolvers: with `internet`, port 53 of these is allowed even on a private address. */
  resolvers?: readonly string[];
}

export interface FirewallCheck {
  ok: boolean;
  /** What is missing or different, one phrase per bridge; empty when ok. */
  problems: string[];
}

/** -w: wait for the xtables lock instead of failing when Docker changes its own rules at the same moment. */
const iptables = (args: string[]) => execa("iptables", ["-w", ...args], { reject: false });

export async function applyFirewall(bridges: readonly BridgePolicy[]): Promise<void> {
  if (bridges.length === 0) return;
  const restored = await execa("iptables-restore", ["-w", "--noflush"], { input: restoreText(bridges), reject: false });
  if (restored.exitCode !== 0) throw new Error(`iptables-restore refused the demo rules: ${restored.stderr.trim() || `exit code ${restored.exitCode}`}`);
  for (const { bridge } of bridges) {
    for (const [chain, ...rule] of jumpRules(bridge)) {
      if ((await iptables(["-C", chain!, ...rule])).exitCode === 0) continue;
      // First in its chain: nothing the host or Docker accepts earlier may let a demo's packet past.
      const inserted = await iptables(["-I", chain!, "1", ...rule]);
      if (inserted.exitCode !== 0) throw new Error(`iptables -I ${chain} ${rule.join(" ")}: ${inserted.stderr.trim()}`);
    }
  }
}

/** The rules as iptables -S prints them, compared with what they should be; also the jumps into them. */
export async function checkFirewall(bridges: readonly BridgePolicy[]): Promise<FirewallCheck> {
  const problems: string[] = [];
  for (const { network, bridge, egress, resolvers } of bridges) {
    const expected = chainRules(bridge, egress, resolvers).map((rule) => rule.join(" "));
    for (const chain of Object.values(chainNames(bridge))) {
      const listed = await iptables(["-S", chain]);
      if (listed.exitCode !== 0) {
        problems.push(`${network} (${bridge}): chain ${chain} is missing${/permission denied|must be root/i.test(listed.stderr) ? " or unreadable (run as root)" : ""}`);
        continue;
      }
      const actual = listed.stdout.split("\n").filter((line) => line.startsWith("-A "));
      const wanted = expected.filter((line) => line.startsWith(`-A ${chain} `));
      if (actual.join("\n") !== wanted.join("\n")) problems.push(`${network} (${bridge}): chain ${chain} holds other rules than its policy (${typeof egress === "string" ? egress : "a list"})`);
    }
    for (const [chain, ...rule] of jumpRules(bridge)) {
      if ((await iptables(["-C", chain!, ...rule])).exitCode !== 0) problems.push(`${network} (${bridge}): no jump from ${chain}`);
    }
  }
  return { ok: problems.length === 0, problems };
}

/** Takes a bridge's jumps and chains away (its network is gone, or a test is done with it). Missing parts are fine. */
export async function removeFirewall(bridge: string): Promise<void> {
  for (const [chain, ...rule] of jumpRules(bridge)) while ((await iptables(["-D", chain!, ...rule])).exitCode === 0);
  for (const chain of Object.values(chainNames(bridge))) {
    await iptables(["-F", chain]);
    await iptables(["-X", chain]);
  }
}
