// Demos that cannot hurt the host (real Docker, real nginx): disk budgets, the free-disk floor, a read-only root,
// dropped capabilities and limits that hold per network. The attacks with neighbours watching are `npm run chaos -- --only=tenant`.
import { readFile, rm, statfs, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitMirror } from "../../../src/builds/git.js";
import { ImageBuilder, PREVIEW_IMAGE_REPO, type BuildLimits } from "../../../src/builds/image-builder.js";
import { BuildCgroups } from "../../../src/builds/build-cgroup.js";
import { buildNetworkName } from "../../../src/app/controller.js";
import { checkFirewall, removeFirewall } from "../../../src/firewall/iptables.js";
import { bridgeOf, bridgePolicies } from "../../../src/firewall/keeper.js";
import { egressNetworkName } from "../../../src/firewall/rules.js";
import { containerOf, execIn } from "../../support/container-exec.js";
import { makeWorkRepo, type WorkRepo } from "../../support/git-repo.js";
import { ensureRootHello, ROOT_HELLO } from "../../support/root-image.js";
import { CLI, launchAndWait, request, startStack, waitFor, type Stack } from "../../support/stack.js";

const HELLO = "    image: demo-launcher/hello:latest\n    port: 8080\n";

/** Runs a shell line inside a demo; its exit code is printed, not thrown, so refusals can be read. */
async function shell(stack: Stack, demoId: string, line: string, user?: string): Promise<string> {
  return execIn(stack.docker, await containerOf(stack.docker, demoId), ["/bin/sh", "-c", `${line}; echo "exit=$?"`], user);
}

describe("demos that cannot hurt the host (real Docker, real nginx)", () => {
  let stack: Stack;
  beforeAll(async () => {
    await ensureRootHello();
    stack = await startStack({
      appsYaml: `  hello:\n${HELLO}    disk: 64m\n  locked:\n${HELLO}    readOnly: true\n    tmpfs: { /tmp: 8m, /data: 6m }\n  rootly:\n    image: ${ROOT_HELLO}\n    port: 8080\n  raw:\n    image: ${ROOT_HELLO}\n    port: 8080\n    capabilities: [CHOWN, SETUID, SETGID, NET_BIND_SERVICE, NET_RAW]\n`,
      limitsYaml: "limits: { maxDemos: 10, perClient: 1, perNetwork: { demos: 2 } }",
    });
  });
  afterAll(async () => stack?.close());

  it("stops any one file at the disk budget, and ends a demo whose files together pass it", async () => {
    const demo = await launchAndWait(stack);
    // The fsize limit: one file stops at 64 MiB, whatever the storage driver.
    const one = await shell(stack, demo.id, "dd if=/dev/zero of=/data/big bs=1M count=100 2>&1; wc -c < /data/big");
    expect(one).toMatch(/File size limit exceeded|exit=153/);
    expect(one).toContain(String(64 * 1024 ** 2));
    // Two more files: 144 MiB in the writable layer, more than its 64 MiB budget: the demo ends, saying why.
    await shell(stack, demo.id, "dd if=/dev/zero of=/data/a bs=1M count=40 2>/dev/null; dd if=/dev/zero of=/data/b bs=1M count=40 2>/dev/null");
    const ended = await waitFor("the demo to end for its disk use", async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body);
      return view.status === "failed" ? view : undefined;
    }, 20_000);
    expect(ended.reason).toMatch(/^it wrote 1\d\d MB to its file system, more than its disk budget of 64 MB$/);
    await waitFor("its container to be removed", async () => (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } })).length === 0);
  });

  it("keeps a read-only root writable only in its sized tmpfs paths", async () => {
    const demo = await launchAndWait(stack, "locked");
    expect(await shell(stack, demo.id, "touch /etc/planted 2>&1")).toMatch(/Read-only file system[\s\S]*exit=1/);
    const tmp = await shell(stack, demo.id, "dd if=/dev/zero of=/tmp/fill bs=1M count=20 2>&1; wc -c < /tmp/fill");
    expect(tmp).toMatch(/No space left on device/);
    expect(Number(/(\d+)\s*$/.exec(tmp.replace(/exit=\d+\s*$/, ""))![1])).toBeLessThanOrEqual(8 * 1024 ** 2);
    // It still serves through nginx.
    expect((await stack.viaNginx(demo.host, "/health.txt")).body.trim()).toBe("ok");
  });

  it("refuses raw sockets, even to root inside the demo, unless the app keeps NET_RAW", async () => {
    // An image that runs as root: the capability is what decides.
    const plain = await launchAndWait(stack, "rootly");
    expect(await shell(stack, plain.id, "id -u; ping -c 1 -W 1 127.0.0.1 2>&1")).toMatch(/^0\n[\s\S]*permission denied[\s\S]*exit=1/i);
    expect(await shell(stack, plain.id, "mknod /tmp/disk b 8 0 2>&1")).toMatch(/Operation not permitted[\s\S]*exit=1/);
    // The control: the same ping works where the operator kept the capability.
    const raw = await launchAndWait(stack, "raw");
    expect(await shell(stack, raw.id, "ping -c 1 -W 1 127.0.0.1 2>&1")).toMatch(/1 packets received[\s\S]*exit=0/);
  });

  it("counts the visitors of one network together, so a handful of addresses cannot take every slot", async () => {
    const asVisitor = (ip: string) => request(stack.config.listen.port, { host: "demo.localhost", method: "POST", path: "/api/demos", body: '{"app":"hello"}', headers: { "content-type": "application/json", "x-real-ip": ip } });
    expect((await asVisitor("198.51.100.1")).status).toBe(201);
    expect((await asVisitor("198.51.100.2")).status).toBe(201);
    const third = await asVisitor("198.51.100.3");
    expect(third.status).toBe(429);
    expect(third.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(third.body).detail).toMatch(/^Visitors from your network already have 2 demos, as many as one network may have\. Try again in about/);
    expect(Number(third.headers["retry-after"])).toBeGreaterThan(0);
    // Another network is not held back by them.
    expect((await asVisitor("198.51.101.1")).status).toBe(201);
  });
});

describe("the free-disk floor (real Docker)", () => {
  let stack: Stack;
  const lines: string[] = [];
  const note = (message: string) => void lines.push(message);
  beforeAll(async () => {
    // A floor no host meets: 99% of the disk must stay free.
    stack = await startStack({ limitsYaml: "limits: { maxDemos: 5, minFreeDisk: 99% }", logger: { info: note, warn: note, error: note } });
  });
  afterAll(async () => stack?.close());

  it("refuses launches with a clear answer while the host is below it, and tells the operator", async () => {
    const answer = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { "content-type": "application/json" }, body: '{"app":"hello"}' });
    expect(answer.status).toBe(503);
    expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(answer.body).detail).toBe("The launcher's host is short of disk space, so no demo can start now. Try again in about 1m.");
    expect(answer.headers["retry-after"]).toBe("60");
    // The operator's own launches are refused too (the disk is the disk); the status page says why.
    expect((await stack.api("POST", "/api/demos", { app: "hello" })).status).toBe(503);
    expect(lines.join("\n")).toMatch(/disk: only [\d.]+ GB is free under Docker's data root, below the floor of [\d.]+ GB \(limits\.minFreeDisk\)/);
  });
});

describe("what demos may reach (real Docker, real iptables)", () => {
  let stack: Stack;
  let server: net.Server;
  let port = 0;
  let work: WorkRepo;
  const hostAddress = Object.values(os.networkInterfaces()).flat().find((entry) => entry && entry.family === "IPv4" && !entry.internal && !/^172\.(1[6-9]|2\d|3[01])\./.test(entry.address))?.address;

  beforeAll(async () => {
    if (!hostAddress) throw new Error("this test needs an IPv4 address on the host besides loopback and Docker's bridges");
    // Something else the host runs, listening everywhere, as a database or an exporter would.
    server = net.createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    port = (server.address() as net.AddressInfo).port;
    work = await makeWorkRepo(path.join(os.tmpdir(), `dl-tenant-build-${process.pid}`));
    // A preview source: the controller makes the builds' network and holds its rules (nothing here builds through it).
    stack = await startStack({ appsYaml: `  hello:\n${HELLO}  sealed:\n${HELLO}    egress: none\n  allowed:\n${HELLO}    egress: [ "${hostAddress}:${port}" ]\n`, limitsYaml: "limits: { maxDemos: 10, perClient: 10 }", extraYaml: `previews:\n  tenant: { repo: "file://${work.dir}", port: 8080 }\n` });
  });
  afterAll(async () => {
    await stack?.close();
    server?.close();
    const images = stack ? await stack.docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/tenant${port}`] } }) : [];
    for (const image of images) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (work) await rm(work.dir, { recursive: true, force: true });
    // The sibling networks of this test's policies, and their rules.
    for (const name of ["demo-launcher-none", egressNetworkName("demo-launcher", [{ cidr: `${hostAddress}/32`, port }])]) {
      const bridge = await bridgeOf(stack.docker, name).catch(() => undefined);
      await stack.docker.getNetwork(name).remove().catch(() => {});
      if (bridge) await removeFirewall(bridge);
    }
  });

  const reach = (demoId: string, ip: string) => shell(stack, demoId, `nc -w 2 ${ip} ${port} 2>&1`);

  it("keeps the host's own services out of a demo's reach, on the bridge gateway and on the host's other addresses", async () => {
    // The control: the service answers on those addresses from the host itself.
    const fromHost = await new Promise<string>((resolve, reject) => net.connect(port, hostAddress!).on("data", (data) => resolve(String(data))).on("error", reject));
    expect(fromHost).toBe("host-secret\n");
    const demo = await launchAndWait(stack);
    const info = await stack.docker.getContainer(await containerOf(stack.docker, demo.id)).inspect();
    const gateway = info.NetworkSettings.Networks["demo-launcher"]!.Gateway;
    for (const ip of [gateway, hostAddress!]) {
      const answer = await reach(demo.id, ip);
      expect(answer).not.toContain("host-secret");
      expect(answer).toMatch(/exit=1/);
    }
    // The demo still serves its visitors: nginx's connections are the host's own.
    expect((await stack.viaNginx(demo.host, "/health.txt")).body.trim()).toBe("ok");
  });

  /** Builds one Dockerfile as a commit of a scratch repo, with the builds' defences; answers the outcome and the log. */
  async function buildWith(dockerfile: string, limits: BuildLimits): Promise<{ error?: Error; log: string; tag: string }> {
    await writeFile(path.join(work.dir, "Dockerfile"), dockerfile);
    const commit = await work.git(["commit", "-q", "--allow-empty", "-am", "step"]).then(() => work.git(["rev-parse", "HEAD"]));
    const mirror = GitMirror.forRepo(path.join(stack.dir, "build-state"), `file://${work.dir}`);
    await mirror.fetch();
    const logFile = path.join(stack.dir, `build-${commit.slice(0, 8)}.log`);
    const builder = new ImageBuilder(stack.docker, { cgroups: new BuildCgroups(stack.docker) });
    const error = await builder.build({ source: `tenant${port}`, commit, dockerfile: "Dockerfile", context: ".", logFile, limits }, mirror).then(() => undefined, (failure: Error) => failure);
    return { ...(error ? { error } : {}), log: await readFile(logFile, "utf8"), tag: `${PREVIEW_IMAGE_REPO}/tenant${port}:${commit.slice(0, 12)}` };
  }
  const dataRootFree = async () => (await statfs("/var/lib/docker")).bavail * (await statfs("/var/lib/docker")).bsize;
  const MB = 1024 * 1024;

  it("runs a preview build's steps on the builds' own network: host services out of reach, names resolve, memory and CPUs held", async () => {
    const network = (await stack.docker.getNetwork(buildNetworkName(stack.config)).inspect()) as { IPAM: { Config: Array<{ Gateway?: string }> } };
    const gateway = network.IPAM.Config.find((entry) => entry.Gateway)!.Gateway!;
    // The attack of the issue: a RUN step knocking on the host's services; and a name a package install needs.
    const probe = `for ip in ${gateway} ${hostAddress}; do if echo | /bin/busybox nc -w 2 $ip ${port} | /bin/busybox grep -q host-secret; then echo REACHED-$ip; else echo KEPT-OUT-$ip; fi; done; /bin/busybox nslookup registry.npmjs.org >/dev/null 2>&1 && echo NAMES-RESOLVE; echo cpu-quota=$(/bin/busybox cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null | /bin/busybox head -n 1)`;
    const limits = { network: buildNetworkName(stack.config), memory: 64 * MB, cpus: 0.5 };
    const probing = await buildWith(`FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(probe)}]\n`, limits);
    expect(probing.error).toBeUndefined();
    expect(probing.log).toContain(`KEPT-OUT-${gateway}`);
    expect(probing.log).toContain(`KEPT-OUT-${hostAddress}`);
    expect(probing.log).not.toMatch(/^REACHED/m);
    // DNS to the host's resolver passes even though its address is private (the resolver's port 53 alone).
    expect(probing.log).toMatch(/^NAMES-RESOLVE$/m);
    // cgroup v2 says "50000 100000", v1 the quota alone: half a CPU either way.
    expect(probing.log).toMatch(/^cpu-quota=50000( 100000)?$/m);
    const hungry = await buildWith('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox head -c 300m /dev/zero | /bin/busybox tail"]\n', limits);
    expect(hungry.error?.message).toMatch(/returned a non-zero code: 137/);
  });

  it("counts a build's processes together: a fork bomb in a RUN step stops at builds.pids", async () => {
    // 200 background processes from an inner shell; the outer one only uses builtins afterwards, so it can report.
    // (The port is new each run: Docker's build cache would skip a step it saw before, output and all.)
    const bomb = `/bin/busybox sh -c 'i=0; while [ $i -lt 200 ]; do /bin/busybox sleep 3 & i=$((i+1)); done; echo SPAWNED-ALL'; echo inner-exit=$? run-${port}`;
    const dockerfile = `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(bomb)}]\n`;
    const held = await buildWith(dockerfile, { network: buildNetworkName(stack.config), memory: 256 * MB, cpus: 1, pids: 64 });
    expect(held.log).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(held.log).not.toMatch(/^SPAWNED-ALL$/m);
    expect(held.log).toMatch(/^inner-exit=[1-9]/m);
  });

  it("stops a build at builds.disk with the reason, removes what it wrote, and keeps the free-disk floor before a build", async () => {
    const free = await dataRootFree();
    const limits = { network: buildNetworkName(stack.config), memory: 256 * MB, cpus: 1, diskBytes: 256 * MB, minFreeBytes: 1 };
    // The layer: one 3 GB file. The largest file a step may write is the budget: dd is stopped there. Which
    // of the two guards speaks first is a race (the file limit as dd reaches 256 MB, or the size watch that sees the
    // layer just past it): either way the build ends at the budget, never near 3 GB.
    const oneFile = await buildWith(`FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo layer-${port} > /layer"]\nRUN ["/bin/busybox", "dd", "if=/dev/zero", "of=/big", "bs=1M", "count=3000"]\n`, limits);
    expect(oneFile.error?.message).toMatch(/a step wrote a file larger than builds\.disk allows \(256 MB\)|it took 2[5-9]\d(\.\d+)? MB on disk, more than builds\.disk allows \(256 MB\)/);
    // Many files, none past the budget alone: the build's size is watched, the step stopped, its layers removed.
    const manyFiles = await buildWith(`FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo layer-${port} > /layer2"]\nRUN ["/bin/busybox", "sh", "-c", "for i in \$(/bin/busybox seq 40); do /bin/busybox dd if=/dev/zero of=/f$i bs=1M count=20 2>/dev/null; /bin/busybox sleep 0.2; done"]\n`, limits);
    expect(manyFiles.error?.message).toMatch(/it took [\d.]+ (MB|GB) on disk, more than builds\.disk allows \(256 MB\)/);
    expect(manyFiles.log).toMatch(/stopped: .*builds\.disk.*; [1-9]\d* layer\(s\) it made removed/);
    const layer = /Step 3\/\d+ :[\s\S]*?---> ([0-9a-f]{12})\n/.exec(manyFiles.log)?.[1];
    expect(layer, manyFiles.log).toBeDefined();
    await expect(stack.docker.getImage(layer!).inspect()).rejects.toThrow(/no such image/i);
    await expect(stack.docker.getImage(manyFiles.tag).inspect()).rejects.toThrow(/no such image/i);
    // Both builds together left less than their budget behind (what the first RUN steps' cache layers take).
    expect(free - (await dataRootFree())).toBeLessThan(128 * MB);
    // Before a build: below the floor, it does not start.
    const floored = await buildWith("FROM scratch\nCOPY busybox /bin/busybox\n", { ...limits, minFreeBytes: 1024 ** 5 });
    expect(floored.error?.message).toMatch(/it did not start: the disk holding Docker's data has [\d.]+ (MB|GB) free, below builds\.minFreeDisk/);
  });

  it("lets an app reach what its egress list names, and nothing more", async () => {
    const allowed = await launchAndWait(stack, "allowed");
    expect(await reach(allowed.id, hostAddress!)).toContain("host-secret");
    const sealed = await launchAndWait(stack, "sealed");
    expect(await reach(sealed.id, hostAddress!)).not.toContain("host-secret");
  });

  it("doctor says how demos are held in, sees a missing rule, and `firewall` puts it back", async () => {
    const doctor = async () => execa("node", [CLI, "--config", stack.configFile, "doctor"], { reject: false, all: true });
    const before = await doctor();
    expect(before.all).toMatch(/ok {4}disk budget {4}watched: overlay2 on extfs has no size quota/);
    expect(before.all).toMatch(/ok {4}free disk {6}[\d.]+ GB free under \/var\/lib\/docker/);
    expect(before.all).toMatch(/(ok|WARN) +seccomp /);
    expect(before.all).toMatch(/(ok|WARN) +userns /);
    expect(before.all).toMatch(/ok {4}demo egress {4}demo-launcher \(br-[0-9a-f]{12}\): internet; demo-launcher-none \(br-[0-9a-f]{12}\): none; demo-launcher-e[0-9a-f]{8} \(br-[0-9a-f]{12}\): [\d.]+\/32:\d+; demo-launcher-build \(br-[0-9a-f]{12}\): internet; 169\.254\.0\.0\/16 \(cloud metadata\) dropped on every bridge/);
    // What previews and shared demos need: git, the source's repository answering, a shared demo's image.
    expect(before.all).toMatch(/^ok {4}git {12}git version \S+/m);
    expect(before.all).toMatch(new RegExp(`^ok {4}source tenant {2}file://${work.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} answers: 1 branch\\(es\\)$`, "m"));
    const withShared = path.join(stack.dir, "with-shared.yaml");
    await writeFile(withShared, `${await readFile(stack.configFile, "utf8")}\nshared:\n  try-it: { app: hello, replicas: 2, reset: "0 3 * * *" }\n  gone-image: { app: sealed }\n`.replace(/(\n {2}sealed:\n {4}image: )\S+/, "$1demo-launcher/no-such-image:1"));
    const sharedDoctor = await execa("node", [CLI, "--config", withShared, "doctor"], { reject: false, all: true });
    expect(sharedDoctor.all).toMatch(/^ok {4}shared try-it {2}2 replica\(s\) of hello, reset at "0 3 \* \* \*" \(UTC\); \S+ is present$/m);
    expect(sharedDoctor.all).toMatch(/^FAIL {2}shared gone-image 1 replica\(s\) of sealed, no scheduled reset; demo-launcher\/no-such-image:1 is missing, so it cannot start$/m);
    // Someone flushes the host's INPUT jump for a demo bridge (a firewall script, an upgrade). The `none` network's:
    // only this file's controller keeps it, and its firewall keeper (every 30 s) is stopped first, so the hole is
    // still there when doctor looks, whenever its next pass would have come (the later tests only read the rules).
    await stack.controller!.quiesce();
    const [bridge] = await bridgePolicies(stack.docker, [{ network: "demo-launcher-none", egress: "none" }]);
    await execa("iptables", ["-w", "-D", "INPUT", "-i", bridge!.bridge, "-j", `DL-IN-${bridge!.bridge}`]);
    const after = await doctor();
    expect(after.exitCode).toBe(1);
    expect(after.all).toContain(`FAIL  demo egress    demo-launcher-none (${bridge!.bridge}): no jump from INPUT; \`demo-launcher firewall\` (as root) puts them in place`);
    expect((await execa("node", [CLI, "--config", stack.configFile, "firewall"], { reject: false })).exitCode).toBe(0);
    expect((await execa("node", [CLI, "--config", stack.configFile, "firewall", "--check"], { reject: false })).exitCode).toBe(0);
  });

  it("holds link-local, metadata, private and public addresses by rules in place (checked from the rules, no packet sent there)", async () => {
    const bridges = await bridgePolicies(stack.docker, [{ network: "demo-launcher", egress: "internet" }, { network: "demo-launcher-none", egress: "none" }]);
    expect(await checkFirewall(bridges)).toEqual({ ok: true, problems: [] });
    const rules = async (chain: string) => (await execa("iptables", ["-w", "-S", chain])).stdout.split("\n").filter((line) => line.startsWith("-A "));
    const internet = await rules(`DL-OUT-${bridges[0]!.bridge}`);
    for (const range of ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]) expect(internet).toContain(`-A DL-OUT-${bridges[0]!.bridge} -d ${range} -j DROP`);
    // Public addresses pass (Docker's own rules masquerade them); nothing is allowed before the drops but replies.
    expect(internet.at(-1)).toBe(`-A DL-OUT-${bridges[0]!.bridge} -j RETURN`);
    expect(internet[0]).toBe(`-A DL-OUT-${bridges[0]!.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
    // `none`: replies only, then everything dropped, public addresses included.
    expect(await rules(`DL-OUT-${bridges[1]!.bridge}`)).toEqual([`-A DL-OUT-${bridges[1]!.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`, `-A DL-OUT-${bridges[1]!.bridge} -j DROP`]);
    // The jumps come first in their chains, so no earlier ACCEPT lets a demo's packet past.
    for (const { bridge } of bridges) {
      expect((await execa("iptables", ["-w", "-S", "DOCKER-USER"])).stdout).toMatch(new RegExp(`-A DOCKER-USER -i ${bridge} -j DL-OUT-${bridge}`));
      expect((await execa("iptables", ["-w", "-S", "INPUT"])).stdout.split("\n").filter((line) => line.startsWith("-A "))).toContain(`-A INPUT -i ${bridge} -j DL-IN-${bridge}`);
    }
  });
});
