// One file copied into or out of a running container through Docker's archive API (a preview's seed, a database's dump).
import type Docker from "dockerode";
import { extract, pack } from "tar-stream";
import { call } from "./engine-api.js";
import type { ContainerFile } from "../core/runtime.js";

/**
 * Writes the file, readable by every user (the database's own user reads it), its folder made open to all (that user
 * removes it after), the folders above it already there: meant for a folder of a container's scratch space (/tmp/x).
 */
export async function copyFileIn(docker: Docker, containerId: string, file: ContainerFile & { content: Buffer }): Promise<void> {
  const archive = pack();
  const parts = file.path.replace(/^\/+/, "").split("/");
  // Only its own folder: an entry for /tmp would reset /tmp's mode.
  if (parts.length > 1) archive.entry({ name: `${parts.slice(0, -1).join("/")}/`, type: "directory", mode: 0o777 });
  archive.entry({ name: parts.join("/"), mode: 0o644 }, file.content);
  archive.finalize();
  await call(() => docker.getContainer(containerId).putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/" }), 120_000);
}

/** Reads the file back; refused past `maxBytes` (a dump larger than a seed should be is a mistake, not a memory spike). */
export async function copyFileOut(docker: Docker, containerId: string, file: ContainerFile & { maxBytes: number }): Promise<Buffer> {
  const stream = (await call(() => docker.getContainer(containerId).getArchive({ path: file.path }), 120_000)) as NodeJS.ReadableStream;
  const reader = extract();
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, entry, next) => {
      entry.on("data", (chunk: unknown) => {
        if (!Buffer.isBuffer(chunk)) return;
        size += chunk.length;
        if (size > file.maxBytes) reader.destroy(new Error(`${file.path} is larger than ${Math.round(file.maxBytes / 1048576)} MB`));
        else if (header.type === "file") chunks.push(chunk);
      });
      entry.on("end", next);
      entry.resume();
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  stream.pipe(reader);
  await done;
  return Buffer.concat(chunks);
}
