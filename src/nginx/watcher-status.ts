// The watcher's last outcome, kept in a small file in the config dir so the controller and doctor can show it.
import path from "node:path";
import { readJsonIfExists, writeAtomically } from "../files/atomic.js";

export const STATUS_FILE_NAME = ".watcher-status.json";

export interface WatcherStatus {
  state: "ok" | "error";
  updatedAt: string;
  appliedGeneration: number;
  reloads: number;
  /** rejected: the file failed `nginx -t`; reload: nginx was not told; io: the config dir could not be used. */
  lastError?: { kind: "rejected" | "reload" | "io"; message: string; at: string; generation: number };
}

export function statusFile(configDir: string): string {
  return path.join(configDir, STATUS_FILE_NAME);
}

export async function readWatcherStatus(configDir: string): Promise<WatcherStatus | undefined> {
  return readJsonIfExists<WatcherStatus>(statusFile(configDir));
}

export async function writeWatcherStatus(configDir: string, status: WatcherStatus): Promise<void> {
  await writeAtomically(statusFile(configDir), `${JSON.stringify(status, null, 2)}\n`);
}
