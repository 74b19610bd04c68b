// kill -9 of a process in the middle of writing the state and routes files, many times: every file left
// behind is complete (one of the versions written, never a mix or a truncation) and nginx accepts it.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parseRoutesFile } from "../../src/nginx/routes-file.js";
import { removeStaleTemps } from "../../src/files/atomic.js";
import { PrivateNginx } from "../../src/nginx/private-nginx.js";
import { freePort } from "../support/stack.js";
import { sleep } from "./common.js";
import { Checks, type Row } from "./report.js";

export async function stateWrites(kills: number, log: (line: string) => void): Promise<Row[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-chaos-state-"));
  const stateDir = path.join(dir, "state");
  const configDir = path.join(dir, "nginx-config");
  const checks = new Checks();
  let survived = 0;
  let lost = 0;
  let nginxChecks = 0;
  let tempsLeft = 0;
  let rounds = 0;
  let nginx: PrivateNginx | undefined;
  try {
    // nginx -t on what is left, with the same site config the product ships (never started: closed below).
    nginx = await PrivateNginx.prepare({ prefix: path.join(dir, "nginx-prefix"), configDir, listen: { host: "127.0.0.1", port: await freePort() } });
    for (let kill = 1; kill <= kills; kill += 1) {
      const child = execa("node", [path.join(import.meta.dirname, "state-writer.mjs"), stateDir, configDir, "8081"], { reject: false, all: true });
      // Long enough for node to start and write a few rounds, then anywhere inside a write.
      await sleep(150 + Math.random() * 250);
      child.kill("SIGKILL");
      const result = await child;
      const failuresBefore = checks.failures.length;
      checks.that(result.signal === "SIGKILL", `kill ${kill}: the writer ended by itself (${result.exitCode}): ${result.all}`);
      const stateText = await readFile(path.join(stateDir, "state.json"), "utf8").catch(() => undefined);
      if (stateText !== undefined) {
        try {
          const data = JSON.parse(stateText) as { ended: unknown[]; leases: Array<{ expiresAt: number; id: string }> };
          // Each version carries its own length: a mix of two versions would not add up.
          checks.that(data.ended.length === data.leases[0]!.expiresAt, `kill ${kill}: state.json holds ${data.ended.length} entries but says ${data.leases[0]!.expiresAt}`);
          rounds = Math.max(rounds, Number(data.leases[0]!.id.slice(5)));
        } catch (error) {
          checks.that(false, `kill ${kill}: state.json is not readable: ${(error as Error).message}`);
        }
      }
      const routesText = await readFile(path.join(configDir, "routes.conf"), "utf8").catch(() => undefined);
      if (routesText !== undefined) {
        const parsed = parseRoutesFile(routesText);
        const expected = 500 + ((parsed.generation * 137) % 3000);
        checks.that(parsed.hosts.size === expected && routesText.trimEnd().endsWith("}"), `kill ${kill}: routes.conf generation ${parsed.generation} has ${parsed.hosts.size} routes, not ${expected}`);
        if (kill % 10 === 0) {
          nginxChecks += 1;
          const test = await execa("sh", ["-c", nginx.testCommand], { reject: false, all: true });
          checks.that(test.exitCode === 0, `kill ${kill}: nginx -t refuses what was left: ${test.all}`);
        }
      }
      if (checks.failures.length === failuresBefore) survived += 1;
      else lost += 1;
    }
    for (const sub of [stateDir, configDir]) tempsLeft += (await readdir(sub)).filter((name) => name.endsWith(".tmp")).length;
    // What the next start does with them (the age limit spares a live writer's file; none is live now).
    const removed = (await removeStaleTemps(path.join(stateDir, "state.json"), 0)) + (await removeStaleTemps(path.join(configDir, "routes.conf"), 0));
    checks.that(removed === tempsLeft, `${tempsLeft} temp files were left, ${removed} removed`);
    log(`  ${kills} kills, up to round ${rounds} written, ${tempsLeft} temp files left by kills mid-write`);
    return [
      {
        fault: "kill -9 while writing the state and routes files",
        injected: kills,
        survived,
        lost,
        detail:
          `every file left was one complete version (state: entry count matches; routes: route count matches, nginx -t passed ${nginxChecks} times); ` +
          `${tempsLeft} temp files left by kills mid-write, removed at the next start` +
          (checks.failures.length ? `; FAILED: ${checks.failures.slice(0, 5).join("; ")}` : ""),
      },
    ];
  } finally {
    await nginx?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
