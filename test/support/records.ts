// The records the benchmark and the fault suite keep of their last full runs: read (empty when there is none yet)
// and written atomically, so a run killed while writing leaves the previous record whole.
import { readIfExists, writeAtomically } from "../../src/files/atomic.js";

/** Empty when there is no record yet; a damaged one is an error, not an empty record a run would then overwrite. */
export async function readRecordFile<T>(file: string, empty: T): Promise<T> {
  const text = await readIfExists(file);
  if (text === undefined) return empty;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${file} is not a readable record (${(error as Error).message}); fix or remove it`);
  }
}

export function writeRecordFile(file: string, record: unknown): Promise<void> {
  return writeAtomically(file, `${JSON.stringify(record, null, 2)}\n`);
}
