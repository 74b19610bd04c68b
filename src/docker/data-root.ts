// Free space where Docker keeps its data (images, layers, writable layers), when this machine can see that disk.
import { statfs } from "node:fs/promises";
import type Docker from "dockerode";

/**
 * A reader of the free bytes under Docker's data root: Docker is asked where that is once, the disk every call
 * (undefined when Docker is remote or does not say).
 */
export function dataRootFree(docker: Pick<Docker, "info">): () => Promise<number | undefined> {
  let root: Promise<string | undefined> | undefined;
  return async () => {
    const dir = await (root ??= docker.info().then((info: { DockerRootDir?: string }) => info.DockerRootDir, () => undefined));
    if (!dir) return undefined;
    const stats = await statfs(dir).catch(() => undefined);
    return stats ? stats.bavail * stats.bsize : undefined;
  };
}
