// The `gitlab:` section: webhook secret tokens (several, for rotation), the API (gitlab.com or a self-managed
// instance's) and its token, and the projects whose merge requests get previews, with the same keys as github.repos.
import { z } from "zod";
import { duration } from "./fields.js";
import { forgeProjectSchema } from "./github-schema.js";

/** A project's full path as GitLab spells it: `group/project`, `group/subgroup/project`. */
export const PROJECT_PATH_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){1,20}$/;

export const gitlabSchema = z.strictObject({
  webhookSecrets: z.array(z.string({ error: "must be text" }).min(16, "must be at least 16 characters"), { error: "must be a list of secret tokens" }).min(1, "must name at least one secret token"),
  apiUrl: z.url({ error: "must be a URL such as https://gitlab.com/api/v4" }).default("https://gitlab.com/api/v4"),
  token: z.string({ error: "must be text" }).min(1).optional(),
  reconcile: duration.prefault("5m"),
  projects: z.record(z.string().regex(PROJECT_PATH_PATTERN, "must be a project's full path as group/project (subgroups allowed)"), forgeProjectSchema, { error: "must be a map of group/project to build settings" }).refine((projects) => Object.keys(projects).length > 0, { message: "must name at least one project" }),
}, { error: "must be a map with webhookSecrets and projects" });

export type GitlabConfig = z.output<typeof gitlabSchema>;

/** Where a project is cloned from when its `repo` is not given: the instance the API is on. */
export function gitlabCloneUrl(apiUrl: string, projectPath: string): string {
  return `${new URL(apiUrl).origin}/${projectPath}.git`;
}
