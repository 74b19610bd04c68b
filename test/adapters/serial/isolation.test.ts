// Isolation between demos, tested from inside a demo container: one demo cannot reach another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Docker from "dockerode";
import { launchAndWait, namespaceContainers, startStack, type Stack } from "../../support/stack.js";

async function execIn(docker: Docker, containerId: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on("end", resolve));
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output: Buffer.concat(chunks).toString("utf8") };
}

describe("isolation between demos (real Docker)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ limitsYaml: "limits: { maxDemos: 5, perClient: 5 }" });
  });
  afterAll(async () => stack?.close());

  it("a demo cannot open a connection to another demo, though both serve", async () => {
    const first = await launchAndWait(stack);
    const second = await launchAndWait(stack);
    const containers = await namespaceContainers(stack.docker, stack.namespace);
    const byId = (id: string) => containers.find((info) => info.Labels["demo-launcher.id"] === id)!;
    const from = byId(first.id);
    const to = await stack.docker.getContainer(byId(second.id).Id).inspect();
    const targetIp = to.NetworkSettings.Networks["demo-launcher"]!.IPAddress;
    expect(targetIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // busybox nc speaks the HTTP (static busybox wget cannot run in a scratch image).
    const httpGet = (ip: string) => execIn(stack.docker, from.Id, ["/bin/sh", "-c", `printf 'GET /health.txt HTTP/1.0\r\n\r\n' | nc -w 3 ${ip} 8080`]);
    // The control: the tool works inside the demo (its own app answers)...
    const self = await httpGet("127.0.0.1");
    expect(self.output).toContain("HTTP/1.1 200 OK");
    // ...but the neighbour's app is out of reach.
    const neighbour = await httpGet(targetIp);
    expect(neighbour.exitCode).not.toBe(0);
    expect(neighbour.output).not.toContain("200 OK");
    // Both demos still serve their visitors through nginx.
    for (const demo of [first, second]) expect((await stack.viaNginx(demo.host, "/health.txt")).body.trim()).toBe("ok");
  });

  it("runs demos unprivileged, without added capabilities, with no new privileges", async () => {
    const demo = await launchAndWait(stack);
    const info = (await namespaceContainers(stack.docker, stack.namespace)).find((entry) => entry.Labels["demo-launcher.id"] === demo.id)!;
    const inspect = await stack.docker.getContainer(info.Id).inspect();
    expect(inspect.HostConfig.Privileged).toBe(false);
    // Every capability dropped but what a web app needs: no raw sockets, no device nodes, no file capabilities.
    expect(inspect.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(inspect.HostConfig.CapAdd).toEqual(["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"]);
    expect(inspect.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
    const status = await execIn(stack.docker, info.Id, ["/bin/cat", "/proc/self/status"]);
    expect(status.output).toMatch(/NoNewPrivs:\s+1/);
    // What the kernel holds the process to, bit by bit (capability numbers from linux/capability.h).
    const bounding = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(status.output)![1]}`);
    const has = (bit: number) => (bounding >> BigInt(bit)) & 1n;
    expect([has(0), has(6), has(7), has(10)]).toEqual([1n, 1n, 1n, 1n]); // CHOWN, SETGID, SETUID, NET_BIND_SERVICE
    expect([has(13), has(27), has(31), has(21), has(18)]).toEqual([0n, 0n, 0n, 0n, 0n]); // NET_RAW, MKNOD, SETFCAP, SYS_ADMIN, SYS_CHROOT
    // Open files and core dumps are limited, and no file may outgrow the disk budget (1g by default).
    const limits = await execIn(stack.docker, info.Id, ["/bin/sh", "-c", 'echo "limits $(ulimit -n) $(ulimit -c) $(ulimit -f)"']);
    expect(/limits (\d+) (\d+) (\d+)/.exec(limits.output)?.slice(1)).toEqual(["4096", "0", String((1024 ** 3) / 512)]);
  });
});
