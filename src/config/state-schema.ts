// The config of an app's state sources (apps.<name>.state): named SQL dumps a demo starts from and can be rewound to.
import { z } from "zod";
import type { StateSource } from "../core/state/state-sources.js";
import { duration } from "./fields.js";

export const STATE_SOURCE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Database, role and OS user names reach SQL and the command line: plain identifiers only, never quoted text. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;
export const identifier = (what: string) => z.string({ error: `must be ${what}` }).regex(IDENTIFIER, `must be ${what} of letters, digits and _ (at most 48, not starting with a digit)`);

export const DRIVERS = ["mariadb", "mysql", "postgres"] as const;

const stateSource = z.strictObject({
  kind: z.enum(["dump", "snapshot"], { error: "must be dump (a SQL file restored inside the demo's container) or snapshot (a demo's container saved as an image)" }).default("dump"),
  /** An app of several services (a Compose file): the service whose container holds the database. */
  service: z.string({ error: "must be the name of a service of the Compose file, such as db" }).regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/, "must be the name of a service of the Compose file, such as db").optional(),
  driver: z.enum(DRIVERS, { error: `must be one of: ${DRIVERS.join(", ")}` }).optional(),
  /** A path inside the app's image: the image ships its dumps, so a source can never name a file of the host. */
  file: z.string({ error: "must be an absolute path inside the app's image, such as /opt/demo/fixtures.sql" }).regex(/^\/[A-Za-z0-9._\/-]{1,250}$/, "must be an absolute path inside the app's image, such as /opt/demo/fixtures.sql (letters, digits, . _ - /)").refine((path) => !path.split("/").includes(".."), { message: "must not contain .." }).optional(),
  database: identifier("a database name").optional(),
  /** Who the client logs in as: an administrator of the database server (root by socket, postgres). */
  user: identifier("a database user name").optional(),
  password: z.string({ error: "must be text" }).max(200, "must be at most 200 characters").optional(),
  /** PostgreSQL: the role that owns the restored database (the app's role); the dump's own owner by default. */
  owner: identifier("a role name").optional(),
  title: z.string({ error: "must be text" }).max(120, "must be at most 120 characters").optional(),
  timeout: duration.prefault("10m"),
  /** Snapshots: taken by itself from the first demo of the app that becomes ready, when none exists yet. */
  auto: z.boolean({ error: "must be true or false" }).default(false),
}, { error: "must be a map: kind dump with driver, file and database, or kind snapshot" }).superRefine((source, ctx) => {
  const dumpKeys = ["driver", "file", "database", "user", "password", "owner", "service"] as const;
  if (source.kind === "dump") {
    for (const key of ["driver", "file", "database"] as const) if (source[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "must be set for a source of kind dump" });
    if (source.auto) ctx.addIssue({ code: "custom", path: ["auto"], message: "is for snapshots only" });
  } else {
    for (const key of dumpKeys) if (source[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "is for dumps only (a snapshot is the demo's whole container)" });
  }
}).transform((source): StateSource =>
  source.kind === "dump"
    ? { kind: "dump", driver: source.driver!, file: source.file!, database: source.database!, user: source.user, password: source.password, owner: source.owner, title: source.title, timeout: source.timeout, ...(source.service ? { service: source.service } : {}) }
    : { kind: "snapshot", title: source.title, auto: source.auto },
);

export const stateSchema = z
  .strictObject({
    default: z.string({ error: "must be the name of one of the sources" }).regex(STATE_SOURCE_NAME, "must be the name of one of the sources"),
    sources: z
      .record(z.string().regex(STATE_SOURCE_NAME, "must be a source name of lowercase letters, digits and hyphens, starting with a letter"), stateSource, { error: "must be a map of source names to sources" })
      .refine((sources) => Object.keys(sources).length > 0, { message: "must name at least one source" }),
  }, { error: "must be a map with default and sources" })
  .superRefine((state, ctx) => {
    if (!Object.hasOwn(state.sources, state.default)) ctx.addIssue({ code: "custom", path: ["default"], message: `must be one of the sources: ${Object.keys(state.sources).join(", ")}` });
  });

export type StateConfig = z.output<typeof stateSchema>;
