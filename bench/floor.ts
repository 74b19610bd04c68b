// The hand-made glue the benchmark measures us against: its own nginx with one map entry per demo, reloaded by hand.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "../test/support/stack.js";
import { RoutesRenderer } from "../src/nginx/render.js";
import { PrivateNginx } from "../src/nginx/private-nginx.js";

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

