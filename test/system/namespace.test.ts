// Two controllers and one namespace on one Docker host: the second refuses to start naming the holder, doctor lists
// the namespace and its holder, and after `kill -9` of the first the second takes over, leaving alone the containers
// of an app its config does not name.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { CLI, freePort, launchAndWait, namespaceContainers, request, startStack, waitFor, type Stack } from "../support/stack.js";

describe("one namespace, one controller (real Docker, real controller processes)", () => {
  let stack: Stack;
  let second: ReturnType<typeof execa> | undefined;
  let secondPort: number;
  let secondConfig: string;
  let secondOutput = "";

  beforeAll(async () => {
    stack = await startStack({ controller: "child", appsYaml: `  hello: { image: ${SAMPLE_IMAGE}, port: 8080, memory: 64m, readiness: { path: /, timeout: 20s } }\n  other: { image: ${SAMPLE_IMAGE}, port: 8080, memory: 64m, readiness: { path: /, timeout: 20s } }` });
    // The same namespace and state, its own address, and only one of the two apps.
    secondPort = await freePort();
    const text = await readFile(stack.configFile, "utf8");
    secondConfig = path.join(stack.dir, "second.yaml");
    await writeFile(secondConfig, text.replace(`listen: ${stack.config.listen.host}:${stack.config.listen.port}`, `listen: 127.0.0.1:${secondPort}`).replace(/\n {2}other: .*\n?/, "\n"));
  });
  afterAll(async () => {
    second?.kill("SIGKILL");
    await second?.catch(() => {});
    await stack?.close();
  });

  it("refuses a second controller for the namespace with one line naming the holder, and doctor lists who holds what", async () => {
    const hello = await launchAndWait(stack, "hello");
    expect(hello.status).toBe("ready");
    const refused = await execa("node", [CLI, "--config", secondConfig, "serve"], { reject: false, all: true, stdin: "ignore" });
    expect(refused.exitCode).not.toBe(0);
    const lines = refused.all!.trim().split("\n");
    expect(lines, refused.all).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^demo-launcher: namespace "${stack.namespace}" is held by the controller at http://127\\.0\\.0\\.1:${stack.config.listen.port} \\(config ${stack.configFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, host [^,]+, pid ${stack.child!.pid}\\) since \\S+, renewed \\d+s ago; stop that one first`));
    // Nothing of the first was touched: its demo still serves.
    expect((await stack.viaNginx(hello.host, "/")).status).toBe(200);

    // A command given no --config asks the controller running here, and says which config that is.
    const guessed = await execa("node", [CLI, "ls"], { reject: false, all: true, stdin: "ignore", cwd: stack.dir });
    expect(guessed.stderr).toBe(`demo-launcher: no --config given; using ${stack.configFile}, the config of the controller running at http://127.0.0.1:${stack.config.listen.port} (namespace ${stack.namespace})`);
    expect(guessed.stdout).toContain(hello.id);

    const doctor = await execa("node", [CLI, "--config", stack.configFile, "doctor"], { reject: false, all: true });
    expect(doctor.all).toMatch(new RegExp(`^ok {4}namespace {6}${stack.namespace} \\(this config's\\): 1 container\\(s\\), held by the controller at http://127\\.0\\.0\\.1:${stack.config.listen.port} `, "m"));
  });

  it("takes over after kill -9 of the holder, and leaves alone the container of an app its config does not name", async () => {
    const other = JSON.parse((await stack.api("POST", "/api/demos", { app: "other" })).body) as { id: string };
    await waitFor("the other app's demo to be ready", async () => (JSON.parse((await stack.api("GET", `/api/demos/${other.id}`)).body) as { status: string }).status === "ready", 30_000);
    const before = (await namespaceContainers(stack.docker, stack.namespace)).map((container) => container.Id).sort();
    expect(before).toHaveLength(2);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});

    second = execa("node", [CLI, "--config", secondConfig, "serve"], { reject: false, all: true, stdin: "ignore" });
    second.all?.on("data", (chunk: Buffer) => (secondOutput += chunk.toString()));
    await waitFor("the second controller to answer", async () => (await request(secondPort, { path: "/healthz" }).catch(() => undefined))?.status === 200, 30_000);
    expect(secondOutput).toMatch(new RegExp(`taking over from the controller at http://127\\.0\\.0\\.1:${stack.config.listen.port} \\(pid ${stack.child!.pid} on `));
    await waitFor("the report of the container it does not adopt", async () => secondOutput.includes("does not name (visitor other)"), 20_000);
    const listed = JSON.parse((await request(secondPort, { path: "/api/demos" })).body) as { demos: Array<{ id: string; app: string }> };
    expect(listed.demos.map((demo) => demo.app)).toEqual(["hello"]);
    // Both containers are still there: the unnamed app's is neither adopted nor removed.
    expect((await namespaceContainers(stack.docker, stack.namespace)).map((container) => container.Id).sort()).toEqual(before);
    expect(secondOutput.match(/does not name/g)).toHaveLength(1);
  });
});
