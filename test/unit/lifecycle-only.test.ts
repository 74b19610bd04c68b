// A demo's status and step and an instance's health change in core/lifecycle.ts alone (the transitions flows wait on).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { toStatus } from "../../src/core/lifecycle.js";
import type { Demo } from "../../src/core/model.js";
import type { StateSaver } from "../../src/core/state/state-saver.js";

/** An assignment to a status, step or health field, but a job's (jobs have their own states) and a class's own. */
const ASSIGNMENT = /\b(?!job\b|this\b)[A-Za-z_]\w*(?:\.\w+)*\.(status|step|health)\s*=(?!=)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith(".ts") ? [path.join(dir, entry.name)] : []));
}

describe("lifecycle", () => {
  it("the pattern sees an assignment and leaves comparisons and jobs alone (the check can fail)", () => {
    expect(ASSIGNMENT.test('  demo.status = "ready";')).toBe(true);
    expect(ASSIGNMENT.test("for (const instance of old) instance.health = 'draining';")).toBe(true);
    expect(ASSIGNMENT.test('if (demo.status === "ready") return;')).toBe(false);
    expect(ASSIGNMENT.test('  job.status = "running";')).toBe(false);
  });

  it("is the only place in src/ that changes a demo's status or step or an instance's health", () => {
    const found = sourceFiles("src")
      .filter((file) => file !== path.join("src", "core", "lifecycle.ts"))
      .flatMap((file) => readFileSync(file, "utf8").split("\n").flatMap((line, index) => (ASSIGNMENT.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])));
    expect(found).toEqual([]);
  });

  it("asks for a save when a status changes, and only then", () => {
    let saves = 0;
    const ctx = { saver: { save: async () => void (saves += 1) } as unknown as StateSaver };
    const demo = { id: "p", status: "ready", step: "done" } as Demo;
    toStatus(ctx, demo, "asleep");
    expect([demo.status, saves]).toEqual(["asleep", 1]);
    toStatus(ctx, demo, "asleep");
    expect(saves).toBe(1);
    toStatus(ctx, demo, "starting", "starting");
    expect([demo.status, demo.step, saves]).toEqual(["starting", "starting", 2]);
  });
});
