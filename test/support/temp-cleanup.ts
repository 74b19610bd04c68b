// Every test file gets a temp dir of its own (TMPDIR, inherited by the processes it starts) and removes it when it
// ends: files running side by side never see, or remove, each other's work dirs, and runs do not pile up.
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

const base = process.env.DEMO_LAUNCHER_TEST_TMP_BASE ?? (process.env.DEMO_LAUNCHER_TEST_TMP_BASE = os.tmpdir());
const own = mkdtempSync(path.join(base, "demo-launcher-file-"));
// Open like /tmp itself (sticky, everyone may enter): a userns-remapped dockerd and nginx's unprivileged workers
// reach their files below it.
chmodSync(own, 0o1777);
process.env.TMPDIR = own;

afterAll(async () => {
  await rm(own, { recursive: true, force: true }).catch(() => {});
});
