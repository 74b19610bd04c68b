// The watcher on a real directory and real file events (chokidar), its commands recorded and its time manual: a burst
// of writes becomes one reload of the newest file, whatever the machine's speed, because time moves only on advance().
import { once } from "node:events";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualScheduler } from "../../src/core/scheduler.js";
import { silentLogger } from "../../src/logger.js";
import { RoutesFile } from "../../src/nginx/routes-file.js";
import { NginxWatcher } from "../../src/nginx/watcher.js";

describe("the watcher's coalescing", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function watched() {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-coalesce-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const writer = new RoutesFile(dir, { host: "127.0.0.1", port: 9 });
    await writer.write([], 1);
    const commands: string[] = [];
    const scheduler = new ManualScheduler();
    const watcher = new NginxWatcher({ configDir: dir, testCommand: "nginx -t", reloadCommand: "nginx -s reload", debounceMs: 50, maxWaitMs: 1000, logger: silentLogger, scheduler, run: async (command) => (commands.push(command), { ok: true, output: "" }) });
    await watcher.start();
    cleanups.push(() => watcher.close());
    return { dir, writer, commands, scheduler, watcher, reloads: () => commands.filter((command) => command.endsWith("reload")).length };
  }

  it("makes one reload of the newest file from a burst of 30 writes", async () => {
    const { dir, writer, scheduler, watcher, reloads } = await watched();
    expect(reloads()).toBe(1);
    const routesFile = path.join(dir, "routes.conf");
    // A burst as a busy controller makes it: renamed into place back to back, while no time passes for the watcher.
    for (let i = 0; i < 30; i += 1) {
      await writeFile(`${routesFile}.burst.tmp`, writer.render([{ id: `burst${i}`, host: `burst${i}.demo.localhost`, backends: [`127.0.0.1:${40000 + i}`] }], 100 + i));
      await rename(`${routesFile}.burst.tmp`, routesFile);
    }
    const applied = once(watcher.events, "applied");
    await scheduler.advance(1000);
    const [outcome, status] = await applied;
    expect(outcome).toBe("reloaded");
    expect(status.appliedGeneration).toBe(129);
    expect(reloads()).toBe(2);
    // Events that arrive late find the same file: nothing more to reload.
    await scheduler.advance(1000);
    expect(reloads()).toBe(2);
  });

  it("tests before it reloads, and reloads again for a later change", async () => {
    const { dir, writer, commands, scheduler, watcher } = await watched();
    const applied = once(watcher.events, "applied");
    await writer.write([{ id: "one", host: "one.demo.localhost", backends: ["127.0.0.1:40001"] }], 2);
    await scheduler.advance(1000);
    expect((await applied)[1].appliedGeneration).toBe(2);
    expect(commands).toEqual(["nginx -t", "nginx -s reload", "nginx -t", "nginx -s reload"]);
    expect(path.basename(dir)).toMatch(/^demo-launcher-coalesce-/);
  });
});
