// Builds the sample image (examples/hello) FROM scratch with the host's static busybox; no registry needed.
import { copyFile, cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import tar from "tar-fs";
import { SetupError, describeError } from "../core/errors.js";
import { PACKAGE_ROOT } from "../nginx/render.js";

export const SAMPLE_IMAGE = "demo-launcher/hello:latest";
const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

export async function buildSampleImage(docker: Docker, tag = SAMPLE_IMAGE, log: (line: string) => void = () => {}): Promise<void> {
  const context = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-hello-"));
  try {
    await cp(path.join(PACKAGE_ROOT, "examples/hello"), context, { recursive: true });
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
