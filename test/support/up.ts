// Runs `demo-launcher up` as a person would (its own process, its own nginx) with a test config.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { CLI, freePort, removeNamespace, request, requireDocker, waitFor } from "./stack.js";

export interface UpProcess {
  namespace: string;
  nginxPort: number;
  controllerPort: number;
  apexUrl: string;
  output(): string;
  /** Admin call straight to the controller. */
  api(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: string }>;
  stopAllDemos(): Promise<void>;
  close(): Promise<void>;
}

export async function startUp(yaml: (ports: { nginxPort: number; controllerPort: number; namespace: string }) => string, options: { beforeStart?: (dir: string) => Promise<void> } = {}): Promise<UpProcess> {
  const docker = await requireDocker();
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-up-"));
  const nginxPort = await freePort();
  const controllerPort = await freePort();
  const namespace = `e${Math.random().toString(36).slice(2, 9)}`;
  await writeFile(path.join(dir, "config.yaml"), yaml({ nginxPort, controllerPort, namespace }));
  await options.beforeStart?.(dir);
  const child: ResultPromise = execa("node", [CLI, "--config", "config.yaml", "up"], { cwd: dir, reject: false, all: true, stdin: "ignore" });
  let output = "";
  child.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor("up to print its URL", async () => output.includes("demo-launcher is up") || (child.exitCode !== null && Promise.reject(new Error(output))), 90_000, 200);
  const api = async (method: string, apiPath: string, body?: unknown) =>
    request(controllerPort, { method, path: apiPath, ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}) });
  return {
    namespace,
    nginxPort,
    controllerPort,
    apexUrl: `http://demo.localhost:${nginxPort}`,
    output: () => output,
    api,
    async stopAllDemos() {
      const { demos } = JSON.parse((await api("GET", "/api/demos")).body) as { demos: Array<{ id: string }> };
      await Promise.all(demos.map((demo) => api("DELETE", `/api/demos/${demo.id}`)));
    },
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      // Ctrl-C must end it by itself: a hang here fails the hook (its timeout) instead of being papered over.
      await exited;
      await removeNamespace(docker, namespace);
    },
  };
}
