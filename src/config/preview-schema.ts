// A preview source's settings (previews.<source>, and a forge project's build settings): what it builds, plus the seed
// its previews' databases start from (state:).
import { z } from "zod";
import type { DumpSource, DumpTarget, PreviewSeed, StateSource } from "../core/state/state-sources.js";
import { duration, ownHostName, previewSchema } from "./fields.js";
import { DRIVERS, identifier } from "./state-schema.js";

/** Where a preview's database is reached: what a dump source says, less its file (the seed's copy takes its place). */
const databaseFields = {
  /** A Compose source: the service whose container holds the database. */
  service: z.string({ error: "must be the name of a service of the Compose file, such as db" }).regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/, "must be the name of a service of the Compose file, such as db").optional(),
  driver: z.enum(DRIVERS, { error: `must be one of: ${DRIVERS.join(", ")}` }),
  database: identifier("a database name"),
  user: identifier("a database user name").optional(),
  password: z.string({ error: "must be text" }).max(200, "must be at most 200 characters").optional(),
  owner: identifier("a role name").optional(),
  timeout: duration.prefault("10m"),
};

const SEED_FROM_HELP = "a SQL file of the repository such as db/seed.sql, or shared/<name> (a dump of that shared demo's database)";
const repositoryFile = (what: string) =>
  z.string({ error: `must be ${what}` }).regex(/^[A-Za-z0-9._][A-Za-z0-9._\/-]{0,250}$/, `must be ${what} (letters, digits, . _ - /)`).refine((value) => !value.split("/").includes(".."), { message: "must be a path inside the repository (no ..)" });

/**
 * A preview source's seed (previews.<source>.state, github.repos.<repo>.state, gitlab.projects.<path>.state): loaded
 * into each fresh preview's database before it is routed, scrubbed first when `scrub` names a file.
 */
export const previewStateSchema = z.strictObject({
  /** `shared/<name>` is a shared demo (seedProblems checks it names one); anything else a file of the commit. */
  from: repositoryFile(SEED_FROM_HELP),
  ...databaseFields,
  /** Run on the loaded data before it goes live (UPDATE users SET email = …): production-like rows never reach a preview unscrubbed. */
  scrub: repositoryFile("a SQL file of the repository such as scripts/scrub.sql").optional(),
  /** What a push's preview starts with: the previous preview's data (keep) or the seed again (seed). */
  onPush: z.enum(["keep", "seed"], { error: "must be keep (a push keeps the previous preview's data) or seed (every push starts from the seed again)" }).default("keep"),
}, { error: "must be a map with from, driver and database" });

export type PreviewStateConfig = z.output<typeof previewStateSchema>;

/** The shared demo a seed's `from: shared/<name>` names; undefined for a file of the commit. */
export function sharedSeedName(from: string): string | undefined {
  return /^shared\/(.+)$/.exec(from)?.[1];
}

/** A preview's seed as the core runs it; a shared demo's database is reached as its app's dump source says. */
export function previewSeedOf(state: PreviewStateConfig, sharedTarget: (name: string) => DumpTarget | undefined): PreviewSeed {
  // The config's checks made sure a named shared demo's database is known (seedProblems).
  const { from, scrub, onPush, ...target } = state;
  const shared = sharedSeedName(from);
  const origin: PreviewSeed["from"] = shared ? { kind: "shared", name: shared, target: sharedTarget(shared)! } : { kind: "file", path: from };
  return { from: origin, target, ...(scrub ? { scrub } : {}), onPush };
}

/**
 * The database of a shared demo's app, as its dump source says (the one it is reset to, else the app's default,
 * else its first): undefined when the app has no dump source to say where its database is.
 */
export function sharedDumpTarget(shared: { app: string; source?: string | undefined } | undefined, apps: Record<string, { state?: { default: string; sources: Record<string, StateSource> } | undefined }>): DumpTarget | undefined {
  const state = shared && Object.hasOwn(apps, shared.app) ? apps[shared.app]!.state : undefined;
  if (!state) return undefined;
  const name = [shared!.source, state.default, ...Object.keys(state.sources)].find((candidate) => candidate !== undefined && state.sources[candidate]?.kind === "dump");
  if (name === undefined) return undefined;
  const { kind: _kind, file: _file, title: _title, scrub: _scrub, ...target } = state.sources[name] as DumpSource;
  return target;
}

/** A preview source: its build settings, its seed, and names of their own for branches' previews. */
export const previewSourceSchema = previewSchema.extend({
  state: previewStateSchema.optional(),
  /** A branch's preview at a name of its own too ({ main: staging.example.org }), as a shared demo's `hosts`. */
  hosts: z.record(z.string({ error: "must be a branch name" }).min(1, "must be a branch name").max(250, "must be a branch name of at most 250 characters"), ownHostName, { error: "must be a map of branch names to DNS names" }).optional(),
});
