// The hand-made glue the benchmark measures us against: its own nginx with one map entry per demo, reloaded by hand.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { freePort, request } from "../test/support/stack.js";
import { writeAtomically } from "../src/files/atomic.js";
import type { Route } from "../src/core/routing/routes.js";
import { RoutesRenderer } from "../src/nginx/render.js";
import { PrivateNginx } from "../src/nginx/private-nginx.js";

/** The sample app's health page, which every floor polls. */
const FLOOR_HEALTH = "/health.txt";

export interface FloorNginx {
  nginx: PrivateNginx;
  routesFile: string;
  port: number;
}

/** The hand-made glue's nginx: one map entry per demo, written by hand, reloaded without a test. */
export async function startFloorNginx(): Promise<FloorNginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-floor-"));
  const configDir = path.join(dir, "config");
  await mkdir(configDir, { recursive: true });
  const port = await freePort();
  const routesFile = path.join(configDir, "routes.conf");
  await writeFile(routesFile, new RoutesRenderer().render({ generation: 1, controller: { host: "127.0.0.1", port: 9 }, routes: [] }));
  const nginx = await PrivateNginx.prepare({ prefix: path.join(dir, "prefix"), configDir, listen: { host: "127.0.0.1", port } });
  await nginx.start();
  return { nginx, routesFile, port };
}


/** The script's routes file, written whole, and nginx reloaded by hand (no test, no confirmation). */
export async function publishFloor(floor: FloorNginx, generation: number, routes: Route[]): Promise<void> {
  await writeAtomically(floor.routesFile, new RoutesRenderer().render({ generation, controller: { host: "127.0.0.1", port: 9 }, routes }));
  await execa(floor.nginx.binary, ["-s", "reload", "-p", floor.nginx.options.prefix, "-c", floor.nginx.confFile]);
}

/**
 * A container as the script makes it, created and started: the limits and options a demo gets (the comparison is
 * of the orchestration, not the container), labelled for the bench only (the controller would adopt or remove
 * what it owns).
 */
export async function startFloorContainer(docker: Docker, image: string, hostPort: number, role = "floor"): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Labels: { "demo-launcher-bench": role },
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: {
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] },
      NetworkMode: "demo-launcher",
      Memory: 32 * 1024 * 1024,
      MemorySwap: 32 * 1024 * 1024,
      NanoCpus: 5e8,
      PidsLimit: 256,
      SecurityOpt: ["no-new-privileges:true"],
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
      RestartPolicy: { Name: "no" },
    },
  });
  // One that cannot start is removed here: the caller never learns of it.
  await container.start().catch(async (error: unknown) => {
    await container.remove({ force: true }).catch(() => {});
    throw error;
  });
  return container;
}

/** Asks the container's own port every `intervalMs` until its app answers the health page (what the script polls). */
export async function untilFloorAnswers(hostPort: number, intervalMs: number): Promise<void> {
  for (;;) {
    const answer = await request(hostPort, { path: FLOOR_HEALTH }).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
