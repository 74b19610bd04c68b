// Every test file removes what it left in the system's temp dir (work dirs of stacks, CLI runs, Prometheus…),
// so runs do not pile up directories there. Only entries made while the file ran, and only our prefixes.
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";

const OURS = /^(demo-launcher-(?!nginx-)|with-volume-)/;
let before = new Set<string>();

beforeAll(async () => {
  before = new Set(await readdir(os.tmpdir()));
});

// Registered first, so it runs after the file's own afterAll hooks (stacks are closed by then).
afterAll(async () => {
  for (const name of await readdir(os.tmpdir())) {
    if (!before.has(name) && OURS.test(name)) await rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => {});
  }
});
