// Builds images FROM scratch with the host's static busybox (the sample, examples/hello; test apps); no registry needed.
import { createHash } from "node:crypto";
import { appendFile, copyFile, cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import tar from "tar-fs";
import { SetupError, describeError } from "../core/errors.js";
import { PACKAGE_ROOT } from "../nginx/render.js";

export const SAMPLE_IMAGE = "demo-launcher/hello:latest";
const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

const SAMPLE_DIR = path.join(PACKAGE_ROOT, "examples/hello");
const DIGEST_LABEL = "demo-launcher.sample-digest";

/** A digest of an image's sources, kept as an image label so a changed source is rebuilt. */
export async function sourceDigest(dir = SAMPLE_DIR): Promise<string> {
  const hash = createHash("sha256");
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)).sort();
  for (const file of files) hash.update(path.relative(dir, file)).update("\0").update(await readFile(file)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

/** True when the image exists and was built from the current sources (the sample by default). */
export async function sampleImageIsCurrent(docker: Docker, tag = SAMPLE_IMAGE, dir = SAMPLE_DIR): Promise<boolean> {
  try {
    const info = await docker.getImage(tag).inspect();
    return info.Config?.Labels?.[DIGEST_LABEL] === (await sourceDigest(dir));
  } catch {
    return false;
  }
}

/** Builds `dir` (a Dockerfile that copies ./busybox) as `tag`; the sample image by default. */
export async function buildSampleImage(docker: Docker, tag = SAMPLE_IMAGE, log: (line: string) => void = () => {}, dir = SAMPLE_DIR): Promise<void> {
  const context = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-image-"));
  try {
    await cp(dir, context, { recursive: true });
    await appendFile(path.join(context, "Dockerfile"), `LABEL ${DIGEST_LABEL}=${await sourceDigest(dir)}\n`);
    let copied = false;
    for (const candidate of BUSYBOX_CANDIDATES) {
      try {
        await copyFile(candidate, path.join(context, "busybox"));
        copied = true;
        break;
      } catch {
        // try the next place
      }
    }
    if (!copied) throw new SetupError("busybox is not installed", "install Debian's busybox-static (`npm start` does)");
    const stream = await docker.buildImage(tar.pack(context) as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }>) => {
          const failure = error ?? output.find((entry) => entry.error)?.error;
          if (failure) reject(new SetupError(`building ${tag} failed: ${describeError(failure)}`));
          else resolve();
        },
        (event: { stream?: string }) => event.stream && log(event.stream.trimEnd()),
      );
    });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
