// The examples/node-app fixture the preview and webhook benches share: a git repository of it, a way to make each
// round's dependency layer cold, and the floor (docker build + docker run by hand, the previews' limits).
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../src/nginx/render.js";
import { freePort } from "../test/support/stack.js";
import { until200 } from "./measure.js";

export const GREETING = "Hello from node-app";
/**
 * Both sides poll every 20 ms: a build takes seconds, and a tighter loop would measure the bench's own load (every
 * poll of a preview host renders its build page while Docker builds on the same two cores) more than the product.
 */
export const POLL_MS = 20;

export async function nodeAppFixture(name: string) {
  await execa("bash", [path.join(PACKAGE_ROOT, "scripts/ensure-base-image.sh")], { stdio: "inherit" });
  const root = await mkdtemp(path.join(os.tmpdir(), `demo-launcher-bench-${name}-`));
  const work = path.join(root, "repo");
  await cp(path.join(PACKAGE_ROOT, "examples/node-app"), work, { recursive: true });
  const git = (args: string[]) => execa("git", ["-c", "user.name=b", "-c", "user.email=b@example.org", ...args], { cwd: work });
  await git(["init", "-q", "-b", "main"]);
  await git(["add", "."]);
  await git(["commit", "-q", "-m", "node-app"]);
  const run = `${Date.now().toString(36)}`;
  // A new description busts the dependency layer's cache (package.json changes), as a new dependency would.
  const bust = async (dir: string, value: string) => {
    const file = path.join(dir, "package.json");
    const json = JSON.parse(await readFile(file, "utf8")) as { description: string };
    json.description = `bench ${value}`;
    await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  };
  const floorTags: string[] = [];
  const floor: number[] = [];
  const floorRun = async (index: number) => {
    const dir = path.join(root, `floor-${index}`);
    await cp(path.join(PACKAGE_ROOT, "examples/node-app"), dir, { recursive: true });
    await bust(dir, `floor ${name} ${run} ${index}`);
    const tag = `demo-launcher-bench/floor:${name}-${run}-${index}`;
    const port = await freePort();
    const started = performance.now();
    await execa("docker", ["build", "-q", "-t", tag, dir]);
    // The same limits the previews run with, so the floor is the same container started by hand.
    const { stdout: id } = await execa("docker", ["run", "-d", "--rm", "--memory", "256m", "--cpus", "0.5", "--pids-limit", "256", "-p", `127.0.0.1:${port}:3000`, tag]);
    await until200(port, "127.0.0.1", "/", GREETING, started, 120_000, POLL_MS);
    floor.push(performance.now() - started);
    floorTags.push(tag);
    await execa("docker", ["rm", "-f", id.trim()]);
  };
  return { root, work, git, bust, run, floorRun, floorTags, floor };
}
