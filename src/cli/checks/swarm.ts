// doctor on a swarm: the manager, the registry, and one line per node with its demos and free capacity.
import type { Config } from "../../config/load.js";
import { describeError } from "../../core/errors.js";
import type { connectDocker } from "../../docker/runtime.js";
import { assertSwarmManager, registryAnswers, swarmNodes } from "../../swarm/nodes.js";
import type { Check } from "./host.js";

/** runtime: swarm: the manager, the registry, and one line per node with its demos and free capacity. */
export async function swarmChecks(config: Config, docker: ReturnType<typeof connectDocker>): Promise<Check[]> {
  const checks: Check[] = [];
  const addresses: string[] = [];
  try {
    await assertSwarmManager(docker);
    checks.push({ name: "swarm", ok: true, detail: "this Docker daemon is a swarm manager" });
    for (const node of await swarmNodes(docker, config.namespace)) {
      addresses.push(node.address);
      const ok = node.state === "ready";
      checks.push({ name: `node ${node.hostname}`.slice(0, 14), ok, detail: `${node.address} ${node.role}, ${node.state}, ${node.availability}: ${node.demos} demo(s), free ${node.freeCpus} CPUs and ${(node.freeMemoryBytes / 1024 ** 3).toFixed(1)} GiB` });
    }
  } catch (error) {
    checks.push({ name: "swarm", ok: false, detail: describeError(error) });
  }
  if (config.swarm.registry) checks.push({ name: "registry", ...(await registryAnswers(config.swarm.registry)) });
  else checks.push({ name: "registry", ok: true, detail: "none configured: every node must have the demo images already" });
  // Each node's own rules: no Docker API shows a node's iptables, so this is a reminder, not a pass.
  checks.push({ name: "demo ports", ok: "not checked", detail: `run scripts/swarm-firewall.sh --check <nginx address> ${config.ports.from}:${config.ports.to} on each node${addresses.length ? ` (${addresses.join(", ")})` : ""} so demos answer nginx alone` });
  return checks;
}
