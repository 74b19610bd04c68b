// Demo passwords: scrypt hashes in the form the config and access.json keep (scrypt$N$r$p$salt$key), checked in constant time.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

const scrypt = (password: string, salt: Buffer, keyLength: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));

/** 2^15 rounds: about 50 ms here, off the event loop (libuv's pool), so a wrong guess costs the guesser, not us. */
const COST = 32_768;
const BLOCK = 8;
const PARALLEL = 1;
/** What scrypt needs beyond Node's default 32 MB for these parameters (128 · N · r bytes, with room). */
const MAX_MEMORY = 128 * COST * BLOCK * 2;
export const MIN_PASSWORD_LENGTH = 8;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize("NFC"), salt, 32, { N: COST, r: BLOCK, p: PARALLEL, maxmem: MAX_MEMORY });
  return `scrypt$${COST}$${BLOCK}$${PARALLEL}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** False for a wrong password and for a hash this code cannot read (the config checks the form at load). */
export async function passwordMatches(password: string, hash: string): Promise<boolean> {
  const [scheme, cost, block, parallel, salt, expected] = hash.split("$");
  if (scheme !== "scrypt" || !salt || !expected) return false;
  const N = Number(cost);
  const r = Number(block);
  const p = Number(parallel);
  // Parameters from a file are bounded: a hash must not make one guess cost the host a gigabyte.
  if (!Number.isInteger(Math.log2(N)) || N > 1_048_576 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const want = Buffer.from(expected, "base64url");
  const key = await scrypt(password.normalize("NFC"), Buffer.from(salt, "base64url"), want.length, { N, r, p, maxmem: 128 * N * r * p * 2 + 1024 * 1024 });
  return key.length === want.length && timingSafeEqual(key, want);
}
