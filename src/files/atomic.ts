// File writes that never leave a half-written file: temp file in the same dir, fsync, rename; skip when unchanged.
import { mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { systemScheduler } from "../clock/system-scheduler.js";

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** A small JSON file another process writes (a status file): undefined when it is missing, unreadable or half-made. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  const text = await readIfExists(file).catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Numbers this process's temp files: two writes of one file in the same millisecond must not share one. */
let tempSequence = 0;

/** `mode`: the file's permissions from its first byte (a private key is never readable by others, not even for a moment). */
export async function writeAtomically(file: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  tempSequence += 1;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${systemScheduler.now()}.${tempSequence}.tmp`);
  // "wx": a name already there is never written into (two writers truncating one temp file can interleave).
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content);
    // Without fsync a power cut can leave an empty file behind the rename.
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Writes of one file, one at a time and in order, each with the content as it is when its turn comes: two at once
 * could land out of order and leave the older state on disk. A failed write is passed to `onFailure` and rejects.
 */
export function serialWriter(file: string, onFailure: (error: unknown) => void): (content: () => string) => Promise<void> {
  let last: Promise<unknown> = Promise.resolve();
  return (content) => {
    const write = last.then(() => writeAtomically(file, content()));
    last = write.catch(onFailure);
    return write;
  };
}

/** Returns true when the file was written, false when it already held this content. */
export async function writeIfChanged(file: string, content: string): Promise<boolean> {
  if ((await readIfExists(file)) === content) return false;
  await writeAtomically(file, content);
  return true;
}

/**
 * Removes temp files a killed writer of `file` left behind (a kill between open and rename leaves one).
 * Only old ones: another live process (the CLI next to a running controller) may be writing right now.
 */
export async function removeStaleTemps(file: string, olderThanMs = 10_000): Promise<number> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const age = systemScheduler.now() - ((await stat(path.join(dir, name)).catch(() => undefined))?.mtimeMs ?? systemScheduler.now());
    if (age < olderThanMs) continue;
    await unlink(path.join(dir, name)).then(() => (removed += 1), () => {});
  }
  return removed;
}
