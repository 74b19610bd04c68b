// A random key kept in the state dir (created once, readable by the controller only), so sessions outlive a restart.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";

export async function loadOrCreateSecret(file: string): Promise<Buffer> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // "wx": two controllers starting at once cannot both write a key; the loser reads the winner's.
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.writeFile(randomBytes(32).toString("base64"));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
  if (key.length < 32) throw new Error(`${file} holds no usable key (expected 32 random bytes in base64); remove it and a new one is made (every console session ends)`);
  return key;
}
