// What the core knows of an app's state sources (named database states) and of the edge that restores them.

export type DatabaseDriver = "mariadb" | "mysql" | "postgres";

/** A SQL dump shipped in the app's image, restored inside the demo's container by the database's own client. */
export interface DumpSource {
  kind: "dump";
  driver: DatabaseDriver;
  /** A path inside the container. */
  file: string;
  database: string;
  user?: string | undefined;
  password?: string | undefined;
  owner?: string | undefined;
  title?: string | undefined;
  timeout: number;
  /** Of an environment: the service whose container runs the database (the dump is a file of its image). */
  service?: string;
  /** A SQL file inside the container run on the loaded data before it is swapped in (a preview's scrub step). */
  scrub?: string;
}

/** A demo's whole container saved as an image (`demo-launcher snapshot <id> <name>`); a rewind to it is a replacement. */
export interface SnapshotSource {
  kind: "snapshot";
  title?: string | undefined;
  /** Taken by itself from the first demo of the app that becomes ready, when none exists yet. */
  auto?: boolean | undefined;
}

export type StateSource = DumpSource | SnapshotSource;

/** The image a snapshot source is kept as: one per namespace, app and source, replaced by the next snapshot. */
export function snapshotImage(namespace: string, app: string, source: string): string {
  return `demo-launcher-snapshot/${namespace}-${app}:${source}`;
}

export interface AppState {
  /** The source new demos start from (the image holds it) and a rewind uses when none is named. */
  default: string;
  sources: Record<string, StateSource>;
}

/** Why a restore failed, in the database tool's own words; the database kept the state it had. */
export class RestoreFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreFailure";
  }
}

export interface StateRestorer {
  /**
   * Puts the source's state into the database of a running container, all or nothing: it is loaded beside the
   * live database and swapped in at once, so a failure leaves the live one as it was. Throws RestoreFailure.
   */
  restore(containerId: string, source: DumpSource): Promise<void>;
}

/**
 * Where a preview's database comes from when it starts fresh (previews.<source>.state): a SQL file of the commit it
 * serves (`db/seed.sql`), or a dump of a shared demo's database taken then (`shared/try`). A push keeps the data the
 * previous build's preview had (`onPush: keep`) or seeds again (`seed`).
 */
export interface PreviewSeed {
  from: { kind: "file"; path: string } | { kind: "shared"; name: string; target: DumpTarget };
  /** The preview's database, as a dump source reaches it; the seed's copy inside the container becomes its `file`. */
  target: DumpTarget;
  /** A SQL file of the commit run on the loaded data before it goes live: production-like rows never reach a preview unscrubbed. */
  scrub?: string;
  onPush: "keep" | "seed";
}

/** Where a database is reached (a dump source less its file). */
export type DumpTarget = Omit<DumpSource, "kind" | "file" | "title" | "scrub">;

/**
 * One seed to load: a file of the commit the preview serves, or a dump of a running database (a shared demo's, or
 * the instance a push replaces), then `scrub` (a file of the commit) on the loaded rows before they go live.
 */
export interface SeedLoad {
  target: DumpTarget;
  from: { kind: "file"; path: string } | { kind: "database"; containerId: string; target: DumpTarget };
  scrub?: string;
}

/** Loads seeds into previews' databases (the edge reads the commit's files, dumps databases, copies into containers). */
export interface Seeder {
  /** Puts the seed into the database of the demo's running instance, all or nothing. Throws RestoreFailure in the tool's words. */
  seed(demo: import("../model.js").Demo, containerId: string, load: SeedLoad): Promise<void>;
}

/** The sources as a caller sees them (no passwords, no paths). */
export function sourcesView(state: AppState): { default: string; sources: Array<{ name: string; kind: string; driver?: string; title?: string }> } {
  return {
    default: state.default,
    sources: Object.entries(state.sources).map(([name, source]) => ({ name, kind: source.kind, ...(source.kind === "dump" ? { driver: source.driver } : {}), ...(source.title ? { title: source.title } : {}) })),
  };
}
