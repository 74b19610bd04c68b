// The records the benchmark and the fault suite keep of their last full runs: read (empty when there is none yet)
// and written atomically, so a run killed while writing leaves the previous record whole.
import { readFile } from "node:fs/promises";
import { writeAtomically } from "../../src/files/atomic.js";

export async function readRecordFile<T>(file: string, empty: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return empty;
  }
}

export function writeRecordFile(file: string, record: unknown): Promise<void> {
  return writeAtomically(file, `${JSON.stringify(record, null, 2)}\n`);
}
