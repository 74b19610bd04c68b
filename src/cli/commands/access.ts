// `hash-password` (a demo password's hash for the config) and `share` (a gated demo's share links: make, list, revoke).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import { UsageError } from "../../core/errors.js";
import { parseDuration } from "../../core/duration.js";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../../http/access/passwords.js";

export function defineAccess(program: Command, cli: CliContext): void {
  program
    .command("hash-password")
    .summary("print the hash of a demo password for access: { mode: password, password: <hash> }")
    .description("read a password from standard input (its first line) and print its scrypt hash, for `access: { mode: password, password: <hash> }`; the password itself never goes in the config")
    .action(async () => {
      const text = await readStdin();
      const password = text.split(/\r?\n/)[0] ?? "";
      if (password.length < MIN_PASSWORD_LENGTH) {
        cli.err.line(`hash-password: the password on standard input has ${password.length} characters; give at least ${MIN_PASSWORD_LENGTH}, for example: echo 'a long passphrase' | demo-launcher hash-password`);
        process.exitCode = 2;
        return;
      }
      cli.out.line(await hashPassword(password));
    });
  program
    .command("share")
    .summary("make, list or revoke a gated demo's share links (admin)")
    .description("make a share link that opens a gated demo (access: signin, password or owner) without signing in, until its end; --list shows the live ones, --revoke ends one at once")
    .argument("<id>", "demo id")
    .argument("[ttl]", "how long the link opens the demo, from 1m to 30d (default 3d)")
    .option("--note <text>", "who the link is for (shown in the list)")
    .option("--uses <n>", "how many browsers may open it (1 for a one-time link; any number by default)")
    .option("--list", "list the demo's live share links")
    .option("--revoke <share>", "end this share link and every session it opened")
    .action(cli.withConfig((config, id: string, ttl: string | undefined, options: { note?: string; uses?: string; list?: boolean; revoke?: string }) => runShare(config, id, ttl, options, cli.out), { client: true }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function runShare(config: Config, id: string, ttl: string | undefined, options: { note?: string; uses?: string; list?: boolean; revoke?: string }, out: Output = stdout): Promise<number> {
  const path = `/api/demos/${encodeURIComponent(id)}/shares`;
  if (options.list) {
    const { data } = await callApi(config, "GET", path);
    const { access, shares } = data as { access: string; shares: Array<{ id: string; note: string; by: string; expiresAt: string }> };
    if (shares.length === 0) out.line(`${id} (access: ${access}) has no live share links`);
    for (const share of shares) out.line(`${share.id}  until ${share.expiresAt}  by ${share.by}${share.note ? `  ${share.note}` : ""}`);
    return 0;
  }
  if (options.revoke !== undefined) {
    await callApi(config, "DELETE", `${path}/${encodeURIComponent(options.revoke)}`);
    out.line(`revoked share link ${options.revoke} of ${id}: its sessions are refused from now on`);
    return 0;
  }
  const lasting = ttl ?? "3d";
  if (parseDuration(lasting) === undefined) throw new UsageError(`share: ${JSON.stringify(lasting)} is not a duration; give a number and a unit (m, h, d), such as 3d, from 1m to 30d`);
  const uses = options.uses === undefined ? undefined : Number(options.uses);
  if (uses !== undefined && !(Number.isInteger(uses) && uses >= 1 && uses <= 1000)) throw new UsageError(`share: --uses ${JSON.stringify(options.uses)} is not a whole number from 1 to 1000`);
  const { data } = await callApi(config, "POST", path, { ttl: lasting, ...(options.note !== undefined ? { note: options.note } : {}), ...(uses !== undefined ? { uses } : {}) });
  const share = data as { id: string; url: string; expiresAt: string };
  out.line(share.url);
  out.line(`share link ${share.id} of ${id}, until ${share.expiresAt} (revoke: demo-launcher share ${id} --revoke ${share.id})`);
  return 0;
}
