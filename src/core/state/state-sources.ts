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

/** The sources as a caller sees them (no passwords, no paths). */
export function sourcesView(state: AppState): { default: string; sources: Array<{ name: string; kind: string; driver?: string; title?: string }> } {
  return {
    default: state.default,
    sources: Object.entries(state.sources).map(([name, source]) => ({ name, kind: source.kind, ...(source.kind === "dump" ? { driver: source.driver } : {}), ...(source.title ? { title: source.title } : {}) })),
  };
}
