// The `access:` setting of apps, preview sources, repositories and shared demos: who may open their demos.
import { z } from "zod";
import type { AccessPolicy } from "../core/access/policy.js";

/** scrypt$N$r$p$salt$key, as `demo-launcher hash-password` prints it. */
export const PASSWORD_HASH_PATTERN = /^scrypt\$\d{4,7}\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9_-]{16,64}\$[A-Za-z0-9_-]{32,128}$/;
const HASH_HELP = "must be a password hash as `demo-launcher hash-password` prints it (scrypt$…); the password itself is never written in the config";

const list = (what: string, item: z.ZodType<string>) => z.array(item, { error: `must be a list of ${what}` }).default([]);

const allowSchema = z.strictObject({
  emails: list("e-mail addresses", z.email({ error: "must be an e-mail address" }).toLowerCase()),
  domains: list("e-mail domains", z.string({ error: "must be an e-mail domain such as example.org" }).toLowerCase().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, "must be an e-mail domain such as example.org")),
  groups: list("group names", z.string({ error: "must be a group name" }).min(1, "must not be empty")),
}, { error: "must be a map with emails, domains and groups" });

function accessSchemaOf(modes: readonly [string, ...string[]]) {
  const modeHelp = `must be one of: ${modes.join(", ")}`;
  const short = z.enum(modes as [string, ...string[]], { error: modeHelp });
  const full = z.strictObject({
    mode: short,
    allow: allowSchema.optional(),
    password: z.string({ error: HASH_HELP }).regex(PASSWORD_HASH_PATTERN, HASH_HELP).optional(),
  }, { error: `${modeHelp}, or a map with mode, allow (signin) and password (a hash)` });
  return z
    .union([short, full], { error: `${modeHelp}, or a map with mode, allow and password` })
    .transform((value, ctx): AccessPolicy => {
      const entry = typeof value === "string" ? { mode: value } : value;
      if (entry.mode !== "signin" && "allow" in entry && entry.allow) ctx.addIssue({ code: "custom", path: ["allow"], message: "applies to mode signin only" });
      if (entry.mode !== "password" && "password" in entry && entry.password) ctx.addIssue({ code: "custom", path: ["password"], message: "applies to mode password only" });
      const policy: AccessPolicy = { mode: entry.mode as AccessPolicy["mode"] };
      if ("allow" in entry && entry.allow) policy.allow = entry.allow;
      if ("password" in entry && entry.password) policy.passwordHash = entry.password;
      return policy;
    });
}

/** Apps may also keep each visitor's demo to its own browser. */
export const appAccessSchema = accessSchemaOf(["public", "owner", "signin", "password"]);
/** Previews, repositories and shared demos have no single visitor who launched them. */
export const accessSchema = accessSchemaOf(["public", "signin", "password"]);

/** Sign-in needs the console's provider (the same client signs people into demos). */
export function accessProblems(config: { admin: { oidc?: unknown }; apps: Record<string, { access?: AccessPolicy | undefined }>; previews: Record<string, { access?: AccessPolicy | undefined }>; shared: Record<string, { access?: AccessPolicy | undefined }>; github?: { repos: Record<string, { access?: AccessPolicy | undefined }> } | undefined; gitlab?: { projects: Record<string, { access?: AccessPolicy | undefined }> } | undefined }): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  const sections: Array<[string[], Record<string, { access?: AccessPolicy | undefined }>]> = [[["apps"], config.apps], [["previews"], config.previews], [["shared"], config.shared], [["github", "repos"], config.github?.repos ?? {}], [["gitlab", "projects"], config.gitlab?.projects ?? {}]];
  for (const [prefix, entries] of sections) {
    for (const [name, entry] of Object.entries(entries)) {
      if (entry.access?.mode === "signin" && !config.admin.oidc) problems.push({ path: [...prefix, name, "access"], message: "needs admin.oidc: people sign into demos through the console's OpenID provider" });
    }
  }
  const projects = [...Object.entries(config.github?.repos ?? {}).map(([name, repo]) => [["github", "repos", name], repo] as const), ...Object.entries(config.gitlab?.projects ?? {}).map(([name, project]) => [["gitlab", "projects", name], project] as const)];
  for (const [path, repo] of projects) {
    if ((repo as { shareInComment?: number }).shareInComment !== undefined && (repo.access === undefined || repo.access.mode === "public")) problems.push({ path: [...path, "shareInComment"], message: "applies to a gated preview only: give the repository access: signin or password (a public preview's address is all a reviewer needs)" });
  }
  return problems;
}
