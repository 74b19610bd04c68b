// Builds the versioned test app as several tags (v1, v2, one that crashes at start), once, without a registry.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { buildSampleImage, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

const FIXTURE = path.join(PACKAGE_ROOT, "test/fixtures/versioned");
export const VERSIONED_IMAGE = "demo-launcher-test/versioned";

export type Version = "v1" | "v2" | "crash";

/** The image tag of a version; its page says `version <v>`, the crash tag exits with code 3 at start. */
export function versionedTag(version: Version): string {
  return `${VERSIONED_IMAGE}:${version}`;
}

/** Builds the tags that are missing or stale (their sources' digest is a label). */
export async function ensureVersionedImages(docker: Docker, versions: Version[] = ["v1", "v2", "crash"]): Promise<void> {
  for (const version of versions) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-versioned-"));
    try {
      await cp(FIXTURE, dir, { recursive: true });
      await writeFile(path.join(dir, "rootfs/www/index.html"), `version ${version}\n`);
      if (version === "crash") await writeFile(path.join(dir, "rootfs/start.sh"), "#!/bin/sh\necho 'crashing at start as built' >&2\nexit 3\n");
      if (!(await sampleImageIsCurrent(docker, versionedTag(version), dir))) await buildSampleImage(docker, versionedTag(version), () => {}, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
