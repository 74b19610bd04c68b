// What demos may reach, as iptables rules for their bridge; pure, so the rules are tested without a kernel.
import type { Egress, EgressTarget } from "../core/app-spec.js";

export type { Egress, EgressTarget };

/**
 * Never public: private, shared, loopback, link-local (the cloud metadata address 169.254.169.254 among them),
 * benchmarking, multicast and reserved ranges. The `internet` policy refuses them; a list may still name one.
 */
export const NON_PUBLIC_RANGES = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"];

/**
 * One chain name per bridge and direction (iptables allows 28 characters; bridge names have at most 15). A bridge
 * may be an interface pattern (`dlei+`: every environment's bridge of one policy): its chains drop the `+`.
 */
export function chainNames(bridge: string): { forward: string; input: string } {
  const name = bridge.replace(/\+$/, "");
  return { forward: `DL-OUT-${name}`, input: `DL-IN-${name}` };
}

/**
 * The interface-name prefix of environments' own bridges under one egress policy. Each environment's network gets a
 * bridge named <prefix><8 letters>, so one pair of rules held for `<prefix>+` covers every environment of the policy
 * from the moment its network exists (no rule to add per demo, no moment without one).
 */
export function environmentBridgePrefix(egress: Egress): string {
  const tag = egressTag(egress);
  return tag === "" ? "dlei" : tag === "none" ? "dlen" : `dlx${tag.slice(1, 5)}`;
}

export function describeEgress(egress: Egress): string {
  if (typeof egress === "string") return egress;
  return egress.map((target) => `${target.cidr}${target.port ? `:${target.port}` : ""}`).join(", ");
}

/** Whether a policy keeps the link-local range (cloud metadata services) out: `internet` and `none` always; a list unless it names part of it. */
export function metadataDropped(egress: Egress): boolean {
  if (typeof egress === "string") return true;
  return !egress.some((target) => target.cidr.startsWith("169.254.") || Number(target.cidr.split("/")[1]) < 16);
}

/** A stable short tag for a policy: demos with the same policy share one network and one set of rules. */
export function egressTag(egress: Egress): string {
  if (egress === "internet") return "";
  if (egress === "none") return "none";
  // FNV-1a over the sorted list: short, stable across restarts and machines.
  let hash = 0x811c9dc5;
  for (const char of [...egress].map((target) => `${target.cidr}:${target.port ?? ""}`).sort().join(",")) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return `e${hash.toString(16).padStart(8, "0")}`;
}

/** The demos' network for a policy: the configured one for `internet`, a sibling for the others. */
export function egressNetworkName(base: string, egress: Egress): string {
  const tag = egressTag(egress);
  return tag ? `${base}-${tag}` : base;
}

const targetArgs = (target: EgressTarget) => ["-d", target.cidr, ...(target.port ? ["-p", "tcp", "-m", "tcp", "--dport", String(target.port)] : [])];

/**
 * The two chains for one bridge, as iptables-restore text (applied with --noflush: only these chains are
 * replaced, atomically). FORWARD (through DOCKER-USER): what a demo may reach beyond the host. INPUT: the host
 * itself answers a demo only on connections the host opened (nginx and the readiness probe through the port
 * binding), and on what a list names.
 */
export function chainRules(bridge: string, egress: Egress, resolvers: readonly string[] = []): string[][] {
  const { forward, input } = chainNames(bridge);
  const rules: string[][] = [];
  const established = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"];
  rules.push(["-A", forward, ...established, "-j", "RETURN"]);
  // An environment's services talk to each other across their own bridge (bridged, never routed): Docker's rules for
  // that network let them. Traffic routed to another bridge (another demo) or beyond still meets the policy below.
  if (bridge.endsWith("+")) rules.push(["-A", forward, "-m", "physdev", "--physdev-is-bridged", "-j", "RETURN"]);
  // Docker's embedded DNS asks the host's resolvers from inside the network; with `internet`, names must resolve
  // even where the resolver has a private address (a cloud VPC's, a LAN's): port 53 of those addresses and no more.
  const dns = egress === "internet" ? resolvers.flatMap((address) => ["udp", "tcp"].map((protocol) => ["-d", `${address}/32`, "-p", protocol, "-m", protocol, "--dport", "53"])) : [];
  for (const match of dns) rules.push(["-A", forward, ...match, "-j", "RETURN"]);
  if (egress === "internet") {
    for (const range of NON_PUBLIC_RANGES) rules.push(["-A", forward, "-d", range, "-j", "DROP"]);
    rules.push(["-A", forward, "-j", "RETURN"]);
  } else {
    if (egress !== "none") for (const target of egress) rules.push(["-A", forward, ...targetArgs(target), "-j", "RETURN"]);
    rules.push(["-A", forward, "-j", "DROP"]);
  }
  rules.push(["-A", input, ...established, "-j", "ACCEPT"]);
  for (const match of dns) rules.push(["-A", input, ...match, "-j", "ACCEPT"]);
  if (Array.isArray(egress)) for (const target of egress) rules.push(["-A", input, ...targetArgs(target), "-j", "ACCEPT"]);
  rules.push(["-A", input, "-j", "DROP"]);
  return rules;
}

/** The jumps that send a bridge's traffic into its chains. */
export function jumpRules(bridge: string): string[][] {
  const { forward, input } = chainNames(bridge);
  return [
    ["DOCKER-USER", "-i", bridge, "-j", forward],
    ["INPUT", "-i", bridge, "-j", input],
  ];
}

/** iptables-restore input that (re)creates both chains of each bridge with exactly these rules. */
export function restoreText(bridges: ReadonlyArray<{ bridge: string; egress: Egress; resolvers?: readonly string[] }>): string {
  const lines = ["*filter"];
  for (const { bridge } of bridges) for (const chain of Object.values(chainNames(bridge))) lines.push(`:${chain} - [0:0]`);
  for (const { bridge, egress, resolvers } of bridges) for (const rule of chainRules(bridge, egress, resolvers)) lines.push(rule.join(" "));
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/**
 * The IPv4 resolvers Docker hands to containers, from resolv.conf text: loopback ones are left out (Docker never
 * passes them on; with systemd-resolved the real ones are in /run/systemd/resolve/resolv.conf).
 */
export function resolverAddresses(resolvConf: string): string[] {
  const addresses = new Set<string>();
  for (const line of resolvConf.split("\n")) {
    const match = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*(?:#.*)?$/.exec(line);
    if (match && !match[1]!.startsWith("127.") && match[1]!.split(".").every((part) => Number(part) <= 255)) addresses.add(match[1]!);
  }
  return [...addresses];
}
