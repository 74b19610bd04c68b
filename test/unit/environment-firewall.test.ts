// The host's rules for environments' own bridges: one pattern per egress policy, bridged traffic between an environment's services let through, the rest as the policy says.
import { describe, expect, it } from "vitest";
import { chainNames, chainRules, environmentBridgePrefix, jumpRules } from "../../src/firewall/rules.js";
import { environmentNetworks } from "../../src/firewall/keeper.js";

describe("rules for environments' bridges", () => {
  it("gives each policy an interface prefix of its own, short enough for a bridge name with its 8-letter suffix", () => {
    const prefixes = [environmentBridgePrefix("internet"), environmentBridgePrefix("none"), environmentBridgePrefix([{ cidr: "10.1.2.3/32", port: 5432 }]), environmentBridgePrefix([{ cidr: "192.0.2.0/24" }])];
    expect(new Set(prefixes).size).toBe(4);
    for (const prefix of prefixes) expect(prefix.length + 8).toBeLessThanOrEqual(15);
    // No prefix is the start of another's: a pattern never takes in a bridge of another policy.
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it("jumps every bridge of a pattern into its chains, and lets only bridged traffic between its own services past the policy", () => {
    expect(chainNames("dlei+")).toEqual({ forward: "DL-OUT-dlei", input: "DL-IN-dlei" });
    expect(jumpRules("dlei+")).toEqual([
      ["DOCKER-USER", "-i", "dlei+", "-j", "DL-OUT-dlei"],
      ["INPUT", "-i", "dlei+", "-j", "DL-IN-dlei"],
    ]);
    const forward = chainRules("dlei+", "internet").map((rule) => rule.join(" ")).filter((rule) => rule.startsWith("-A DL-OUT-dlei"));
    expect(forward.slice(0, 3)).toEqual(["-A DL-OUT-dlei -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN", "-A DL-OUT-dlei -m physdev --physdev-is-bridged -j RETURN", "-A DL-OUT-dlei -d 0.0.0.0/8 -j DROP"]);
    // A single demo's shared bridge keeps no such rule: its containers must not reach each other.
    expect(chainRules("br-1234", "internet").flat().join(" ")).not.toContain("physdev");
  });

  it("holds one pattern per policy among the Compose apps", () => {
    expect(environmentNetworks(["internet", undefined, "none", "none"])).toEqual([
      { network: "environments (internet)", egress: "internet", bridge: "dlei+" },
      { network: "environments (none)", egress: "none", bridge: "dlen+" },
    ]);
  });
});
