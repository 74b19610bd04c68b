// The state files on a real disk: atomic writes that never mix, and an unreadable file moved aside and reported, never silently overwritten.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeAtomically } from "../../src/files/atomic.js";
import { StateFile } from "../../src/state/state-file.js";

describe("state file", () => {
  // What a test makes in the system's temp dir, it removes.
  const made: string[] = [];
  afterEach(async () => {
    for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  it("round-trips what the engine keeps", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-state-"));
    made.push(dir);
    const file = new StateFile(dir);
    const state = { ended: [{ id: "abcd1234", app: "hello", status: "expired" as const, reason: "its time box ended", endedAt: 5 }], queued: [{ id: "wait0001", app: "hello", queuedAt: 4 }], starting: [{ id: "new00001", app: "hello", queuedAt: 6, client: "d" }], leases: [{ id: "pool0001", expiresAt: 9, client: "c" }] };
    await file.save(state);
    expect(await file.load()).toEqual(state);
  });

  it("moves an unreadable file aside, says so, and starts empty", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-state-"));
    made.push(dir);
    await writeFile(path.join(dir, "state.json"), '{"ended": [ {"id": "trunc');
    const errors: string[] = [];
    const file = new StateFile(dir, { info: () => {}, warn: () => {}, error: (line) => errors.push(line) });
    expect(await file.load()).toEqual({ ended: [], queued: [] });
    const names = await readdir(dir);
    const aside = names.find((name) => name.startsWith("state.json.unreadable-"));
    expect(aside).toBeDefined();
    expect(await readFile(path.join(dir, aside!), "utf8")).toBe('{"ended": [ {"id": "trunc');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/is not readable JSON .*moved it to .*state\.json\.unreadable-\d+ and started without it/);
  });

  it("keeps writes of one file in the same millisecond apart: each lands whole, none fails", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-state-"));
    made.push(dir);
    const file = path.join(dir, "builds.json");
    // Different lengths: two writers sharing one temp file would leave a mix of both behind, or fail the rename.
    const contents = Array.from({ length: 20 }, (_, index) => `${JSON.stringify({ writer: index, pad: "x".repeat(1000 * (20 - index)) })}\n`);
    await Promise.all(contents.map((content) => writeAtomically(file, content)));
    expect(contents).toContain(await readFile(file, "utf8"));
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
