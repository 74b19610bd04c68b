// The pure parts of holding untrusted builds in: the build network's rules, the disk budget, and log masking.
import { describe, expect, it } from "vitest";
import { chainRules, metadataDropped, resolverAddresses, restoreText } from "../../src/firewall/rules.js";
import { BuildProgress, buildOverLimits, stepNeedsMeasure } from "../../src/core/builds/build-budget.js";
import { redactSecrets } from "../../src/builds/redact.js";
import { parseConfigText } from "../../src/config/load.js";

describe("the build network's rules", () => {
  it("let names resolve through the host's resolvers (port 53 only) and still drop private, host and metadata ranges", () => {
    const rules = chainRules("br-b", "internet", ["10.255.255.53"]).map((rule) => rule.join(" "));
    const dns = rules.indexOf("-A DL-OUT-br-b -d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN");
    expect(dns).toBeGreaterThan(0);
    expect(rules).toContain("-A DL-OUT-br-b -d 10.255.255.53/32 -p tcp -m tcp --dport 53 -j RETURN");
    // The DNS exception comes before the private ranges are dropped, and the metadata range is dropped after it.
    expect(dns).toBeLessThan(rules.indexOf("-A DL-OUT-br-b -d 10.0.0.0/8 -j DROP"));
    expect(rules).toContain("-A DL-OUT-br-b -d 169.254.0.0/16 -j DROP");
    expect(rules.filter((rule) => rule.includes("10.255.255.53") && !rule.includes("--dport 53"))).toEqual([]);
    // A resolver on the host itself answers through INPUT, on port 53 alone.
    expect(rules).toContain("-A DL-IN-br-b -d 10.255.255.53/32 -p udp -m udp --dport 53 -j ACCEPT");
    expect(rules.at(-1)).toBe("-A DL-IN-br-b -j DROP");
    // none and lists get no resolvers of ours: a list names what it needs.
    expect(chainRules("br-b", "none", ["10.255.255.53"]).flat().join(" ")).not.toContain("10.255.255.53");
    expect(restoreText([{ bridge: "br-b", egress: "internet", resolvers: ["10.255.255.53"] }])).toContain("--dport 53");
  });

  it("reads the resolvers Docker passes on from resolv.conf, leaving loopback and junk out", () => {
    expect(resolverAddresses("# generated\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 999.1.1.1\n nameserver 192.0.2.9 # second\nsearch example\n")).toEqual(["10.255.255.53", "192.0.2.9"]);
    expect(resolverAddresses("")).toEqual([]);
  });

  it("says whether a policy keeps cloud metadata out", () => {
    expect(metadataDropped("internet")).toBe(true);
    expect(metadataDropped("none")).toBe(true);
    expect(metadataDropped([{ cidr: "10.1.2.3/32", port: 5432 }])).toBe(true);
    expect(metadataDropped([{ cidr: "169.254.169.254/32" }])).toBe(false);
    expect(metadataDropped([{ cidr: "0.0.0.0/0" }])).toBe(false);
  });

  it("builds.* in the config: a clear error naming the key", () => {
    expect(() => parseConfigText("builds: { egress: [169.254.169.254:80/8] }\n", "test.yaml", "/srv")).toThrow(/builds\.egress/);
    expect(() => parseConfigText("builds: { maxImagesPerSource: 0 }\n", "test.yaml", "/srv")).toThrow(/builds\.maxImagesPerSource.*at least 1/);
    expect(() => parseConfigText("builds: { disk: huge }\n", "test.yaml", "/srv")).toThrow(/builds\.disk/);
  });
});

describe("a build's disk budget", () => {
  it("follows the classic builder's output: the image stood on, the step writing, the layers this build made", () => {
    const progress = new BuildProgress();
    progress.feed("Step 1/4 : FROM busybox\n ---> aaaaaaaaaaaa\nStep 2/4 : RUN echo cached\n ---> Using cache\n ---> bbbbbbbbbbbb\nStep 3/4 : RUN dd if=/dev/zero of=/big\n ---> Run");
    expect(progress.image).toBe("bbbbbbbbbbbb");
    expect(progress.createdLayers).toEqual([]);
    progress.feed("ning in cccccccccccc\n");
    expect(progress.stepContainer).toBe("cccccccccccc");
    progress.feed("3000+0 records in\nRemoving intermediate container cccccccccccc\n ---> dddddddddddd\nStep 4/4 : LABEL a=b\n ---> Running in eeeeeeeeeeee\n");
    expect(progress).toMatchObject({ image: "dddddddddddd", stepContainer: "eeeeeeeeeeee", createdLayers: ["dddddddddddd"], fileTooLarge: false });
    progress.feed("dd: error writing '/big': File too large\n");
    expect(progress.fileTooLarge).toBe(true);
  });

  it("stops a build past its budget or below the disk floor, with the reason in words", () => {
    const limits = { budgetBytes: 1024 ** 3, floorBytes: 2 * 1024 ** 3 };
    expect(buildOverLimits({ imageBytes: 100 * 1024 ** 2, stepBytes: 500 * 1024 ** 2, freeBytes: 10 * 1024 ** 3 }, limits)).toBeUndefined();
    expect(buildOverLimits({ imageBytes: 100 * 1024 ** 2, stepBytes: 1000 * 1024 ** 2, freeBytes: 10 * 1024 ** 3 }, limits)).toBe("it took 1.1 GB on disk, more than builds.disk allows (1.0 GB)");
    expect(buildOverLimits({ imageBytes: 0, stepBytes: 0, freeBytes: 1024 ** 3 }, limits)).toMatch(/fell to 1\.0 GB free, below builds\.minFreeDisk \(2\.0 GB\)/);
    // Unknown free space: the budget still holds.
    expect(buildOverLimits({ imageBytes: 2 * 1024 ** 3, stepBytes: 0 }, limits)).toMatch(/builds\.disk/);
  });

  it("measures the writing step only when the disk's free space fell by half of what the budget leaves", () => {
    const budgetBytes = 1000;
    expect(stepNeedsMeasure({ freeAtStepStart: 10_000, freeNow: 9_700, imageBytes: 200, budgetBytes })).toBe(false);
    expect(stepNeedsMeasure({ freeAtStepStart: 10_000, freeNow: 9_600, imageBytes: 200, budgetBytes })).toBe(true);
    expect(stepNeedsMeasure({ imageBytes: 200, budgetBytes })).toBe(true);
  });
});

describe("build logs", () => {
  it("never show a password or token in a URL, nor a configured secret", () => {
    expect(redactSecrets("fatal: unable to access 'https://ci:s3cr3t-pass@git.example.org/a.git/'", [])).toBe("fatal: unable to access 'https://***@git.example.org/a.git/'");
    expect(redactSecrets("cloning https://ghp_abcdefghijklmnopqrstuvwxyz@github.com/o/r", [])).toBe("cloning https://***@github.com/o/r");
    // A user name alone (ssh://git@host) is no secret.
    expect(redactSecrets("ssh://git@example.org/r.git", [])).toBe("ssh://git@example.org/r.git");
    expect(redactSecrets("token=abcd1234efgh and abcd1234efgh again; abc stays", ["abcd1234efgh", "abc"])).toBe("token=*** and *** again; abc stays");
  });
});
