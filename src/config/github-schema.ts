// The `github:` section: webhook secrets (several, for rotation), the API and its auth, and the repositories
// whose pull requests get previews, each with the build settings of a preview source and who is trusted.
import { z } from "zod";
import { SHARE_TTL } from "../core/access/access-desk.js";
import { duration, REPO_PATTERN, SOURCE_PATTERN } from "./fields.js";
import { previewSourceSchema } from "./preview-schema.js";

/** `owner/name` as GitHub spells repositories. */
export const OWNER_REPO_PATTERN = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
const TRUST_HELP = "collaborators, all, or label:<name>";

/**
 * A repository's build settings are a preview source's (less the branch refresh), plus its name, URL and trust; a
 * GitLab project's are the same (gitlab-schema.ts).
 */
export const forgeProjectSchema = previewSourceSchema.omit({ repo: true, refresh: true, hosts: true }).extend({
  /** The source name in preview hosts (`<name>-pr-<n>`); by default the repository's name, letters and digits only. */
  name: z.string({ error: "must be a source name" }).regex(SOURCE_PATTERN, "must be 1 to 20 lowercase letters and digits, starting with a letter").optional(),
  repo: z.string({ error: "must be a git URL" }).regex(REPO_PATTERN, "must be a git URL (git://, https://, ssh://, file://), user@host:path or a path").optional(),
  trust: z.string({ error: `must be ${TRUST_HELP}` }).regex(/^(collaborators|all|label:[^\s]{1,50})$/, `must be ${TRUST_HELP}`).default("collaborators"),
  /** Who may run comment commands (`/demo-launcher extend 3d`): people who may push, the change's author too, or nobody. */
  commands: z.enum(["push", "author", "off"], { error: "must be push, author or off" }).default("push"),
  /** A gated preview's comment carries a share link lasting this long (a new one on every push; the old one is revoked). */
  shareInComment: duration.refine((ms) => ms >= SHARE_TTL.minMs && ms <= SHARE_TTL.maxMs, { message: "must be from 1m to 30d" }).optional(),
});

export const githubSchema = z.strictObject({
  webhookSecrets: z.array(z.string({ error: "must be text" }).min(16, "must be at least 16 characters"), { error: "must be a list of secrets" }).min(1, "must name at least one secret"),
  apiUrl: z.url({ error: "must be a URL such as https://api.github.com" }).default("https://api.github.com"),
  token: z.string({ error: "must be text" }).min(1).optional(),
  app: z.strictObject({ id: z.number({ error: "must be the App's id" }).int().positive(), privateKey: z.string({ error: "must be the path of the App's private key" }).min(1), installationId: z.number().int().positive().optional() }, { error: "must be a map with id and privateKey" }).optional(),
  reconcile: duration.prefault("5m"),
  repos: z.record(z.string().regex(OWNER_REPO_PATTERN, "must be a repository as owner/name"), forgeProjectSchema, { error: "must be a map of owner/name to build settings" }).refine((repos) => Object.keys(repos).length > 0, { message: "must name at least one repository" }),
}, { error: "must be a map with webhookSecrets and repos" });

export type GithubConfig = z.output<typeof githubSchema>;

/**
 * The preview source name of a repository or project: its configured name, or its name (the path's last part) in
 * lowercase letters and digits.
 */
export function sourceNameOf(ownerRepo: string, configured?: string): string {
  if (configured) return configured;
  const name = (ownerRepo.split("/").at(-1) ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");
  const start = name.search(/[a-z]/);
  return (start >= 0 ? name.slice(start) : `r${name}`).slice(0, 20) || "repo";
}
