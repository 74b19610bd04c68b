// Demos that cannot hurt the host (real Docker, real nginx): disk budgets, the free-disk floor, a read-only root,
// dropped capabilities and limits that hold per network. The attacks with neighbours watching are `npm run chaos -- --only=tenant`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerOf, execIn } from "../helpers/container-exec.js";
import { ensureRootHello, ROOT_HELLO } from "../helpers/root-image.js";
import { launchAndWait, request, startStack, waitFor, type Stack } from "../helpers/stack.js";

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
    expect(lines.join("\n")).toMatch(/disk: only [\d.]+ GB free under Docker's data root, below the floor of [\d.]+ GB \(limits\.minFreeDisk\)/);
  });
});
