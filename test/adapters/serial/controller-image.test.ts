// The controller's image, for real: built here from the Dockerfile on a locally made Node.js base, run against the
// Docker socket and the watcher's config dir as the README says; a demo launched through it is served by nginx.
import { chmod, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../../src/nginx/render.js";
import { requireDocker, startStack, waitFor, type Stack } from "../../support/stack.js";

/** Makes the stack's directories writable by the image's unprivileged `node` user (uid 1000). */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const entry of await readdir(dir)) {
    const full = path.join(dir, entry);
    if ((await stat(full)).isDirectory()) await openToAll(full);
    else await chmod(full, 0o666);
  }
}

describe("the controller's image", () => {
  let stack: Stack;
  let image: string;
  const name = `demo-launcher-image-test-${process.pid}`;

  beforeAll(async () => {
    await requireDocker();
    // The first build on a machine makes the base (mmdebstrap) and runs npm ci: minutes; later ones hit the cache.
    image = (await execa("bash", [path.join(PACKAGE_ROOT, "scripts/ensure-controller-image.sh")], { all: true })).stdout.trim();
    stack = await startStack({ controller: "none" });
    await openToAll(stack.dir);
  }, 900_000);
  afterAll(async () => {
    await execa("docker", ["rm", "-f", name], { reject: false });
    await stack?.close();
  });

  it("runs the controller from the image against the host's Docker and nginx, and a demo it launches is served", async () => {
    const size = Number((await execa("docker", ["image", "inspect", "--format", "{{.Size}}", image])).stdout);
    console.log(`controller image ${image}: ${(size / 1e6).toFixed(0)} MB`);
    // The bound (issue 34): Node.js, the bundle and its libraries only.
    expect(size).toBeLessThanOrEqual(150e6);
    const socketGroup = (await stat("/var/run/docker.sock")).gid;
    // As README "Controller in Docker" runs it, with a read-only root file system; the stack's directory at the same
    // path, so its config holds. The health check asks this stack's controller, every second (30 s by default).
    const healthz = `http://${stack.config.listen.host}:${stack.config.listen.port}/healthz`;
    await execa("docker", ["run", "-d", "--name", name, "--network", "host", "--read-only", "--health-interval", "1s", "--health-start-period", "0s", "-e", `DEMO_LAUNCHER_HEALTHZ=${healthz}`, "--group-add", String(socketGroup), "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", `${stack.dir}:${stack.dir}`, image, "--config", stack.configFile, "serve"]);
    const logs = async () => (await execa("docker", ["logs", name], { reject: false, all: true })).all;
    await waitFor("the controller in the container to answer", async () => (await stack.api("GET", "/healthz").catch(() => undefined))?.status === 200, 30_000, 200).catch(async (error: Error) => {
      throw new Error(`${error.message}; it said: ${await logs()}`);
    });
    expect((await execa("docker", ["inspect", "--format", "{{.Config.User}}", name])).stdout).toBe("node");
    await waitFor("Docker's health check to call it healthy", async () => (await execa("docker", ["inspect", "--format", "{{.State.Health.Status}}", name])).stdout === "healthy", 30_000, 250);
    const launched = await stack.api("POST", "/api/demos", { app: "hello" });
    expect(launched.status).toBe(201);
    const demo = JSON.parse(launched.body) as { id: string; host: string };
    await waitFor(`${demo.id} to be ready`, async () => JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).status === "ready", 60_000, 200);
    const page = await stack.viaNginx(demo.host, "/");
    expect(page.status).toBe(200);
    // The watcher on the host applied the routes file the containerised controller wrote.
    expect(stack.watcher.currentStatus().appliedGeneration).toBeGreaterThan(0);
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
  }, 120_000);
});
