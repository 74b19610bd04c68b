// Time enters through the scheduler only: no loop of ours runs on a wall-clock timer the manual scheduler cannot reach.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

/** Calls that read or wait on the real clock (a socket's own idle timeout, `socket.setTimeout`, is not one). */
const CLOCK_CALLS = /(?<![.\w])(setTimeout|setInterval)\s*\(|Date\.now\s*\(|new Date\(\s*\)|performance\.now\s*\(|from "cron"|from "node:timers\/promises"/;

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith(".ts")) found.push(full);
  }
  return found;
}

async function offenders(dir: string, allowed: (file: string) => boolean): Promise<string[]> {
  const lines: string[] = [];
  for (const file of await sourceFiles(path.join(PACKAGE_ROOT, dir))) {
    if (allowed(file)) continue;
    (await readFile(file, "utf8")).split("\n").forEach((line, index) => {
      if (!line.trimStart().startsWith("//") && CLOCK_CALLS.test(line)) lines.push(`${path.relative(PACKAGE_ROOT, file)}:${index + 1}: ${line.trim()}`);
    });
  }
  return lines;
}

describe("time", () => {
  it("is read and waited on through the scheduler only: src/clock/ is the one place that touches the real clock", async () => {
    // cron stays for reading schedules (CronTime, validateCronExpression); its jobs (timers of their own) may not come back.
    const lines = await offenders("src", (file) => file.includes(`${path.sep}clock${path.sep}`));
    expect(lines.filter((line) => !/import \{[^}]*\} from "cron"/.test(line) || /CronJob/.test(line))).toEqual([]);
  });

  it("finds the calls it looks for (the check itself can fail)", () => {
    for (const line of ["await new Promise((r) => setTimeout(r, 5));", "const t = Date.now();", "setInterval(tick, 100)", "new Date()"]) expect(CLOCK_CALLS.test(line), line).toBe(true);
    for (const line of ["socket.setTimeout(500);", "new Date(now()).toISOString()", "scheduler.sleep(100)"]) expect(CLOCK_CALLS.test(line), line).toBe(false);
  });
});
