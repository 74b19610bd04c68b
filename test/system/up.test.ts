// `demo-launcher up` as a person runs it: landing page through nginx, a demo, then Ctrl-C cleans up.
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, freePort, namespaceContainers, removeNamespace, request, requireDocker, waitFor } from "../support/stack.js";
import { isListening } from "../../src/nginx/private-nginx.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

/**
 * Runs `demo-launcher up` in `dir` until it prints its URL. Wrapped in an object: the subprocess is a
 * thenable, and an async function returning it would wait for its exit.
 */
async function startUp(dir: string, configFile = "config.yaml") {
  const child = execa("node", [CLI, "--config", configFile, "up"], { cwd: dir, reject: false, all: true, stdin: "ignore" });
  let output = "";
  child.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(`up (${configFile}) to print its URL`, async () => output.includes("demo-launcher is up") || (child.exitCode !== null && Promise.reject(new Error(output))), 90_000, 200);
  return { child };
}

describe("demo-launcher up (real Docker, real nginx)", () => {
  const namespace = `up${Math.random().toString(36).slice(2, 8)}`;
  afterAll(async () => removeNamespace(await requireDocker(), namespace));

  it("serves the landing page and a demo through its own nginx from `npm start`, and stops cleanly on Ctrl-C", { timeout: 150_000 }, async () => {
    const docker = await requireDocker();
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-up-"));
    const nginxPort = await freePort();
    const controllerPort = await freePort();
    // A shared demo too: its supervisor must not start a replica while Ctrl-C removes them (it did, and Docker said 409).
    await writeFile(path.join(dir, "config.yaml"), `namespace: ${namespace}\nlisten: 127.0.0.1:${controllerPort}\nnginx: { listen: "127.0.0.1:${nginxPort}" }\nports: { from: 38000, to: 38999 }\nshared:\n  try-it: { app: hello, replicas: 2 }\n`);
    const nginxTempDirs = async () => (await readdir(os.tmpdir())).filter((name) => name.startsWith("demo-launcher-nginx-"));
    const tempDirsBefore = new Set(await nginxTempDirs());
    // The quick start's `npm start` itself (docs/getting-started/quick-start.md), with this test's config. Its own
    // process group, so Ctrl-C can be played as a terminal sends it: SIGINT to every process of the group.
    const child = execa("npm", ["start", "--", "--config", path.join(dir, "config.yaml")], { cwd: PACKAGE_ROOT, reject: false, all: true, stdin: "ignore", detached: true });
    let output = "";
    child.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor("up to print its URL", async () => output.includes("demo-launcher is up"), 90_000, 200);
      expect(output).toContain(`open http://demo.localhost:${nginxPort}/`);
      const landing = await request(nginxPort, { host: "demo.localhost" });
      expect(landing.status).toBe(200);
      expect(landing.body).toContain("Hello guestbook");
      expect(landing.body).toContain("Launch demo");

      const launched = await request(nginxPort, { host: "demo.localhost", path: "/launch", method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "app=hello" });
      expect(launched.status).toBe(303);
      const host = new URL(String(launched.headers.location)).hostname;
      await waitFor("the demo through nginx", async () => (await request(nginxPort, { host })).body.includes("<h1>Hello guestbook</h1>"), 30_000);
      await waitFor("the shared demo through nginx", async () => (await request(nginxPort, { host: "try-it.demo.localhost" })).body.includes("<h1>Hello guestbook</h1>"), 30_000);
      expect(await namespaceContainers(docker, namespace)).toHaveLength(3);
    } finally {
      process.kill(-child.pid!, "SIGINT");
    }
    const ended = await child;
    // npm passes Ctrl-C on and then ends by the same signal, as a terminal expects; its script's failure would be an
    // exit code (and "npm error" in the output), a crash of ours a stack or an "error" line (checked below).
    expect(ended.exitCode === 0 || ended.signal === "SIGINT", `exit ${ended.exitCode}, signal ${ended.signal ?? "none"}\n${output}`).toBe(true);
    expect(output).not.toContain("npm error");
    expect(await namespaceContainers(docker, namespace)).toHaveLength(0);
    expect(await isListening({ host: "127.0.0.1", port: nginxPort })).toBe(false);
    expect(await isListening({ host: "127.0.0.1", port: controllerPort })).toBe(false);
    // A clean Ctrl-C: the demos went while nginx still ran, so nothing failed on the way down...
    expect(output).toContain("stopped 2 demo(s)");
    expect(output).not.toMatch(/error|invalid PID|could not be started|Conflict/i);
    // ...nothing of ours is left in the system's temp dir...
    expect((await nginxTempDirs()).filter((name) => !tempDirsBefore.has(name))).toEqual([]);
    // ...and doctor says what no longer runs, without calling the stop a failure.
    const doctor = await execa("node", [CLI, "--config", "config.yaml", "doctor"], { cwd: dir, reject: false, all: true });
    expect(doctor.all).toMatch(/^off {3}controller {5}not running \(nothing answers on 127\.0\.0\.1:\d+\)/m);
    expect(doctor.all).toMatch(/^off {3}nginx running {2}not running/m);
    expect(doctor.all).toMatch(/^ok {4}watcher {8}applied routes generation \d+/m);
    expect(doctor.all).not.toContain("FAIL");
  });

  it.each([
    ["taking over its own leftover nginx", false],
    ["clearing the nginx worker its killed master left", true],
  ])("starts again after it was killed with SIGKILL, %s", { timeout: 150_000 }, async (_what, masterToo) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-up-"));
    const nginxPort = await freePort();
    await writeFile(path.join(dir, "config.yaml"), `namespace: ${namespace}\nlisten: 127.0.0.1:${await freePort()}\nnginx: { listen: "127.0.0.1:${nginxPort}" }\n`);
    const { child: first } = await startUp(dir);
    const master = Number((await readFile(path.join(dir, ".run/state/nginx-prefix/nginx.pid"), "utf8")).trim());
    // Wait for the process, not its output: the orphaned nginx may hold a copy of its pipes.
    const exited = new Promise((resolve) => first.once("exit", resolve));
    first.kill("SIGKILL");
    if (masterToo) process.kill(master, "SIGKILL");
    await exited;
    if (masterToo) await waitFor("the master to be gone", async () => !(await readFile(`/proc/${master}/cmdline`, "utf8").catch(() => "")));
    // Its nginx (or, without a master, its worker) outlived it and still holds the port.
    expect(await isListening({ host: "127.0.0.1", port: nginxPort })).toBe(true);
    const { child: second } = await startUp(dir);
    expect((await request(nginxPort, { host: "demo.localhost" })).body).toContain("Launch demo");
    second.kill("SIGINT");
    expect((await second).exitCode).toBe(0);
    expect(await isListening({ host: "127.0.0.1", port: nginxPort })).toBe(false);
  });

  it("runs two stacks from one checkout with their own configs, and stopping one leaves the other serving", { timeout: 150_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-up-"));
    const stacks = [];
    for (const name of ["a", "b"]) {
      const nginxPort = await freePort();
      await writeFile(path.join(dir, `${name}.yaml`), `namespace: ${namespace}${name}\nlisten: 127.0.0.1:${await freePort()}\nstateDir: .run/${name}\nnginx: { listen: "127.0.0.1:${nginxPort}", configDir: .run/${name}/nginx }\n`);
      const { child } = await startUp(dir, `${name}.yaml`);
      stacks.push({ child, nginxPort });
    }
    try {
      for (const { nginxPort } of stacks) expect((await request(nginxPort, { host: "demo.localhost" })).body).toContain("Launch demo");
      stacks[1]!.child.kill("SIGINT");
      expect((await stacks[1]!.child).exitCode).toBe(0);
      expect(await isListening({ host: "127.0.0.1", port: stacks[1]!.nginxPort })).toBe(false);
      expect((await request(stacks[0]!.nginxPort, { host: "demo.localhost" })).body).toContain("Launch demo");
    } finally {
      for (const { child } of stacks) child.kill("SIGINT");
      await Promise.all(stacks.map(({ child }) => child));
    }
  });
});
