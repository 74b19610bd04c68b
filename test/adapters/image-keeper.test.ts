// The image keeper on real Docker images: unused preview images go after keep, the least recently used first
// when the disk is low, asleep previews before the rest, and an image a preview serves never goes.
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageKeeper } from "../../src/builds/image-keeper.js";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { silentLogger } from "../../src/logger.js";
import { requireDocker } from "../support/stack.js";

const SOURCE = `k${Math.random().toString(36).slice(2, 8)}`;
const DAY = 86_400_000;

describe("image keeper (real Docker)", () => {
  let docker: Docker;
  let root: string;
  const tags = ["a", "b", "c", "d"].map((name) => `${PREVIEW_IMAGE_REPO}/${SOURCE}:${name}`);
  // As a launch pulls them: a registry's name, no label of ours.
  const pulledTags = ["x", "y", "z"].map((name) => `127.0.0.1:5999/${SOURCE}/${name}:1`);

  const exists = (tag: string) => docker.getImage(tag).inspect().then(() => true, () => false);

  beforeAll(async () => {
    docker = await requireDocker();
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-keeper-"));
    await copyFile("/bin/busybox", path.join(root, "busybox"));
    for (const [index, tag] of [...tags, ...pulledTags].entries()) {
      // Each image differs, so each has its own id and removing one leaves the others.
      await writeFile(path.join(root, "Dockerfile"), `FROM scratch\nCOPY busybox /bin/busybox\n${index < tags.length ? `LABEL demo-launcher.source=${SOURCE} demo-launcher.commit=${index}` : `LABEL pulled=${SOURCE}-${index}`}\n`);
      const stream = await docker.buildImage(pack(root) as unknown as NodeJS.ReadableStream, { t: tag });
      await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))));
    }
  });
  afterAll(async () => {
    for (const tag of [...tags, ...pulledTags]) await docker?.getImage(tag).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("removes what keep and a low disk say, oldest first, and keeps what serves", async () => {
    const stateDir = path.join(root, "state");
    let now = 100 * DAY;
    const ended: string[] = [];
    let free: number | undefined;
    const keeper = new ImageKeeper({
      docker,
      stateDir,
      keepFor: (source) => (source === SOURCE ? 7 * DAY : undefined),
      minFreeBytes: 1,
      logger: silentLogger,
      now: () => now,
      freeBytes: async () => free,
      use: { inUse: () => new Set([tags[3]!]), asleep: () => [{ id: `${SOURCE}-main`, image: tags[2]!, lastSeenAt: now - DAY }], endPreview: async (id) => void ended.push(id) },
    });
    await keeper.start();
    keeper.used(tags[0]!);
    now += DAY;
    keeper.used(tags[1]!);
    // Nothing is past keep yet, and the disk has room.
    expect(await keeper.pass()).toEqual({ endPreviews: [], removeImages: [] });
    await keeper.close();

    // A restarted keeper remembers when each was used: `a` passes its keep first.
    now += 6.5 * DAY;
    let building = true;
    const again = new ImageKeeper({ docker, stateDir, keepFor: (source) => (source === SOURCE ? 7 * DAY : undefined), minFreeBytes: 1, logger: silentLogger, now: () => now, freeBytes: async () => free, building: () => building, use: { inUse: () => new Set([tags[3]!]), asleep: () => [{ id: `${SOURCE}-main`, image: tags[2]!, lastSeenAt: now - DAY }], endPreview: async (id) => void ended.push(id) } });
    await again.start();
    // While a build runs, its cache may stand on the layers under `a`: the removal waits for the build to end.
    expect((await again.pass()).removeImages).toEqual([tags[0]]);
    expect(await exists(tags[0]!)).toBe(true);
    building = false;
    expect((await again.pass()).removeImages).toEqual([tags[0]]);
    expect(await exists(tags[0]!)).toBe(false);
    expect(await exists(tags[1]!)).toBe(true);

    // The disk runs low: the unused `b` goes, then the asleep preview and its image `c`; `d` serves and stays.
    free = 0;
    const low = new ImageKeeper({ docker, stateDir, keepFor: (source) => (source === SOURCE ? 7 * DAY : undefined), minFreeBytes: 10 ** 12, logger: silentLogger, now: () => now, freeBytes: async () => free, use: { inUse: () => new Set([tags[3]!]), asleep: () => [{ id: `${SOURCE}-main`, image: tags[2]!, lastSeenAt: now - DAY }], endPreview: async (id) => void ended.push(id) } });
    await low.start();
    const plan = await low.pass();
    expect(plan).toEqual({ endPreviews: [`${SOURCE}-main`], removeImages: [tags[1], tags[2]] });
    expect(ended).toEqual([`${SOURCE}-main`]);
    expect(await exists(tags[1]!)).toBe(false);
    expect(await exists(tags[2]!)).toBe(false);
    expect(await exists(tags[3]!)).toBe(true);
    await again.close();
    await low.close();

    // Measured for real on Docker's data root: this disk has room, so nothing more goes.
    const measured = new ImageKeeper({ docker, stateDir, keepFor: (source) => (source === SOURCE ? 7 * DAY : undefined), minFreeBytes: 1, logger: silentLogger, now: () => now, use: { inUse: () => new Set(), asleep: () => [], endPreview: async () => {} } });
    expect(await measured.pass()).toEqual({ endPreviews: [], removeImages: [] });
    expect(await exists(tags[3]!)).toBe(true);
  });

  it("removes a pulled image unused past its keep, and keeps one a container runs or an app names, across a restart", async () => {
    const stateDir = path.join(root, "pulled-state");
    let now = 100 * DAY;
    const [unused, running, named] = pulledTags as [string, string, string];
    const keeperAt = () => new ImageKeeper({ docker, stateDir, keepFor: () => undefined, minFreeBytes: 1, logger: silentLogger, now: () => now, freeBytes: async () => undefined, pulled: { keepMs: 7 * DAY, needed: () => new Set([named]) }, use: { inUse: () => new Set([running]), asleep: () => [], endPreview: async () => {} } });
    const keeper = keeperAt();
    await keeper.start();
    for (const tag of pulledTags) keeper.notePulled(tag);
    expect((await keeper.pass()).removeImages).toEqual([]);
    await keeper.close();
    // A week and a day later, a restarted keeper remembers what it pulled: only the unused one goes.
    now += 8 * DAY;
    const later = keeperAt();
    await later.start();
    expect((await later.pass()).removeImages).toEqual([unused]);
    await later.close();
    expect(await exists(unused)).toBe(false);
    expect(await exists(running)).toBe(true);
    expect(await exists(named)).toBe(true);
  });
});
