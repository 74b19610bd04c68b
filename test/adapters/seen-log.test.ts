// The reader of nginx's log of preview requests: whole lines only, our hosts only, and a log emptied or rotated.
import { appendFile, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { SeenLog } from "../../src/nginx/seen-log.js";

describe("seen log", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports the labels of whole new lines, skips what was there before and other hosts, and follows a truncation", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "seen-log-"));
    const file = path.join(dir, "state", "seen.log");
    const seen: string[][] = [];
    // A branch preview's own name (previews.<source>.hosts) counts for its preview.
    const log = new SeenLog(file, "demo.localhost", (labels) => seen.push([...labels].sort()), silentLogger, undefined, new Map([["staging.example.org", "web-main"]]));
    await log.start();
    expect(log.working).toBe(false);
    await log.readNew();
    expect(log.working).toBe(true);
    expect(seen).toEqual([]);
    await appendFile(file, "web-main.demo.localhost\nweb-main.demo.localhost\nevil.example.org\nweb-commit-0123456789ab.demo.localhost\nweb-fea");
    await log.readNew();
    expect(seen).toEqual([["web-commit-0123456789ab", "web-main"]]);
    // The half-written line is read once nginx finishes it.
    await appendFile(file, "ture-x.demo.localhost\n");
    await log.readNew();
    expect(seen.at(-1)).toEqual(["web-feature-x"]);
    await truncate(file, 0);
    await writeFile(file, "web-again.demo.localhost\n");
    await log.readNew();
    expect(seen.at(-1)).toEqual(["web-again"]);
    await appendFile(file, "staging.example.org\n");
    await log.readNew();
    expect(seen.at(-1)).toEqual(["web-main"]);
    await log.close();
  });

  it("starts from the end of a log that already has lines", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "seen-log-"));
    const file = path.join(dir, "seen.log");
    await writeFile(file, "old-one.demo.localhost\n");
    const seen: string[][] = [];
    const log = new SeenLog(file, "demo.localhost", (labels) => seen.push([...labels]), silentLogger);
    await log.start();
    await log.readNew();
    expect(seen).toEqual([]);
    await log.close();
  });
});
