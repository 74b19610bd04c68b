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

  it("refuses a file of a newer format with the reason, and leaves it as it is", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-state-"));
    made.push(dir);
    const newer = `${JSON.stringify({ version: 2, ended: [], queued: [{ id: "wait0001", app: "hello", queuedAt: 4 }], somethingNew: true })}\n`;
    await writeFile(path.join(dir, "state.json"), newer);
    const file = new StateFile(dir);
    await expect(file.load()).rejects.toThrow(/state\.json has format 2, written by a newer demo-launcher; this one reads formats up to 1; the file is left as it is$/);
    expect(await readFile(path.join(dir, "state.json"), "utf8")).toBe(newer);
    expect(await readdir(dir)).toEqual(["state.json"]);
    await writeFile(path.join(dir, "state.json"), '{"version": "one", "ended": []}');
    await expect(file.load()).rejects.toThrow(/says its format is "one", which no release of demo-launcher writes/);
    // A file from before the format was written down reads as format 1.
    await writeFile(path.join(dir, "state.json"), '{"ended": [], "queued": [{"id": "wait0001", "app": "hello", "queuedAt": 4}]}');
    expect((await file.load()).queued).toEqual([{ id: "wait0001", app: "hello", queuedAt: 4 }]);
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
