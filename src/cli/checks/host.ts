// doctor's look at how well the host holds demos in: disk budgets and floor, seccomp/AppArmor, user namespaces, egress rules.
import { statfs } from "node:fs/promises";
import type Docker from "dockerode";
import { guardedNetworks } from "../../app/controller.js";
import type { Config } from "../../config/load.js";
import { floorBytes, formatBytes } from "../../core/demos/disk.js";
import { describeError } from "../../core/errors.js";
import { NO_QUOTA } from "../../docker/hardening.js";
import { SAMPLE_IMAGE } from "../../docker/sample-image.js";
import { checkFirewall } from "../../firewall/iptables.js";
import { bridgePolicies } from "../../firewall/keeper.js";
import { describeEgress, metadataDropped } from "../../firewall/rules.js";

export interface Check {
  name: string;
  /** "not checked": doctor cannot see it from here; "warn": weaker than it could be; "off": not running now. None is a failure. */
  ok: boolean | "not checked" | "warn" | "off";
  detail: string;
}

interface DockerInfo {
  DockerRootDir?: string;
  Driver?: string;
  DriverStatus?: Array<[string, string]>;
  SecurityOptions?: string[];
  CgroupDriver?: string;
}

export async function hostChecks(config: Config, docker: Docker): Promise<Check[]> {
  const info = (await docker.info()) as DockerInfo;
  return [await diskModeCheck(config, docker, info), await freeDiskCheck(config, info), ...securityChecks(info), await firewallCheck(config, docker), ...buildLimitsCheck(config, info)];
}

/** Where previews are built: whether a build's processes can be counted together (builds.pids). */
function buildLimitsCheck(config: Config, info: DockerInfo): Check[] {
  if (Object.keys(config.previews).length === 0) return [];
  const { builds } = config;
  const held = `memory ${formatBytes(builds.memory)}, ${builds.cpus} CPU(s), disk ${formatBytes(builds.disk)}, egress ${describeEgress(builds.egress)}`;
  if (info.CgroupDriver !== "cgroupfs") return [{ name: "build limits", ok: "warn", detail: `${held}; builds.pids is not held: Docker uses the ${info.CgroupDriver ?? "unknown"} cgroup driver (a build's processes are counted together only with cgroupfs)` }];
  if (process.getuid?.() !== 0) return [{ name: "build limits", ok: "warn", detail: `${held}; builds.pids is held only when the controller runs as root (it makes a control group per build)` }];
  return [{ name: "build limits", ok: true, detail: `${held}, ${builds.pids} processes per build` }];
}

/** Asks Docker for a size-limited container (created, never started) the way a launch does: quota, or watched. */
async function diskModeCheck(config: Config, docker: Docker, info: DockerInfo): Promise<Check> {
  const backing = info.DriverStatus?.find(([key]) => key === "Backing Filesystem")?.[1];
  const driver = `${info.Driver ?? "?"}${backing ? ` on ${backing}` : ""}`;
  // Any image of ours will do; an app with a Compose file has none until its file is read, so the sample stands in.
  const image = Object.values(config.apps).find((app) => app.image)?.image ?? SAMPLE_IMAGE;
  try {
    const container = await docker.createContainer({ Image: image, HostConfig: { StorageOpt: { size: "1g" } }, Labels: { "demo-launcher.doctor": "true" } });
    await container.remove({ force: true });
    return { name: "disk budget", ok: true, detail: `quota: ${driver} holds each demo to apps.<name>.disk itself` };
  } catch (error) {
    if (!NO_QUOTA.test(describeError(error))) return { name: "disk budget", ok: "not checked", detail: `could not ask Docker with ${image}: ${describeError(error)}` };
    return { name: "disk budget", ok: true, detail: `watched: ${driver} has no size quota, so the controller measures writable layers every 5 s and ends a demo past apps.<name>.disk; no single file outgrows it (fsize)` };
  }
}

async function freeDiskCheck(config: Config, info: DockerInfo): Promise<Check> {
  if (!info.DockerRootDir) return { name: "free disk", ok: "not checked", detail: "Docker did not say where its data is" };
  try {
    const stats = await statfs(info.DockerRootDir);
    const free = stats.bavail * stats.bsize;
    const floor = floorBytes(config.limits.minFreeDisk, stats.blocks * stats.bsize);
    return { name: "free disk", ok: free >= floor, detail: `${formatBytes(free)} free under ${info.DockerRootDir}; launches are refused below ${formatBytes(floor)} (limits.minFreeDisk)` };
  } catch (error) {
    return { name: "free disk", ok: "not checked", detail: `${info.DockerRootDir} is not visible from here (${describeError(error)})` };
  }
}

function securityChecks(info: DockerInfo): Check[] {
  const options = (info.SecurityOptions ?? []).map((option) => option.replace(/^name=/, ""));
  const seccomp = options.find((option) => option.startsWith("seccomp"));
  const checks: Check[] = [];
  checks.push(seccomp && !/profile=unconfined/.test(seccomp)
    ? { name: "seccomp", ok: true, detail: "Docker filters demos' system calls (its default profile)" }
    : { name: "seccomp", ok: "warn", detail: "Docker runs demos without a seccomp profile: every system call reaches the kernel; use a kernel and Docker built with seccomp" });
  checks.push(options.some((option) => option.startsWith("apparmor") || option.startsWith("selinux"))
    ? { name: "apparmor", ok: true, detail: "Docker confines demos with a mandatory access control profile" }
    : { name: "apparmor", ok: "warn", detail: "neither AppArmor nor SELinux is active for Docker: demos rely on capabilities, seccomp and namespaces alone (install apparmor and restart dockerd)" });
  checks.push(options.some((option) => option.startsWith("userns"))
    ? { name: "userns", ok: true, detail: "demos run in a user namespace: root inside a demo is an unprivileged user on the host" }
    : { name: "userns", ok: "warn", detail: "no user-namespace remapping: root inside a demo is uid 0 on the host kernel; see docs/guides/hardening.md, \"User namespaces\" (userns-remap)" });
  return checks;
}

async function firewallCheck(config: Config, docker: Docker): Promise<Check> {
  const networks = guardedNetworks(config);
  if (networks.length === 0) return { name: "demo egress", ok: "not checked", detail: "on a swarm, each node's rules are its own (scripts/swarm-firewall.sh)" };
  if (process.getuid?.() !== 0) return { name: "demo egress", ok: "not checked", detail: "reading iptables needs root: run `sudo demo-launcher doctor`" };
  try {
    const bridges = await bridgePolicies(docker, networks);
    const result = await checkFirewall(bridges);
    // Read from the rules, never tried: no packet of ours goes to a metadata service.
    const metadata = bridges.every((entry) => metadataDropped(entry.egress)) ? "; 169.254.0.0/16 (cloud metadata) dropped on every bridge" : "";
    return result.ok
      ? { name: "demo egress", ok: true, detail: `${bridges.map((entry) => `${entry.network} (${entry.bridge}): ${describeEgress(entry.egress)}`).join("; ")}${metadata}${config.runtime === "swarm" ? "; the demos' own rules are each node's (scripts/swarm-firewall.sh)" : ""}` }
      : { name: "demo egress", ok: false, detail: `${result.problems.join("; ")}; \`demo-launcher firewall\` (as root) puts them in place` };
  } catch (error) {
    return { name: "demo egress", ok: false, detail: `${describeError(error)} (start the controller once: it creates the demo and build networks)` };
  }
}
