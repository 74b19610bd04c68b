// What the core knows of an app and of logging; the config edge parses apps into this shape.
import type { AppState, PreviewSeed } from "./state/state-sources.js";

export interface AppSpec {
  image: string;
  /** The port the app listens on inside its container. */
  port: number;
  ttl: number;
  memory: number;
  cpus: number;
  pids: number;
  env: Record<string, string>;
  banner: boolean;
  pool: number;
  /** Containers created ahead, not started (demos/prepared.ts). */
  prepared?: number;
  readiness: { path: string; timeout: number };
  /** Previews only: the most one lives since it was first served, however much it is used (its hard end). */
  maxLife?: number;
  /** Previews only: stopped (not removed) after this long without a request; woken by the next one. */
  idleStop?: number;
  title?: string | undefined;
  description?: string | undefined;
  /** Named database states: new demos start from the default, a rewind brings one back. */
  state?: AppState | undefined;
  /** Previews only: the data a fresh preview's database is seeded with before it is routed. */
  seed?: PreviewSeed;
  /** Where its demos may run, for runtimes that place them (Swarm constraints). */
  placement?: { constraints: string[] } | undefined;
  /** Bytes its container may write to its own file system; the config gives every app one (1g by default). */
  disk?: number;
  /** Linux capabilities kept (all others dropped); absent: the runtime's hardened default. */
  capabilities?: readonly string[];
  readOnly?: boolean;
  /** Writable in-memory paths and their sizes in bytes (needed with readOnly). */
  tmpfs?: Record<string, number>;
  /** Open files per process. */
  nofile?: number;
  /** Where its demos may open connections (held by the host's firewall rules for their network). */
  egress?: Egress;
  /** The memory one demo is given in all (an environment's services summed); absent: `memory`. */
  demoMemory?: number;
  /** An app made of several services (a Compose file): `image` and `port` are then its routed service's. */
  environment?: import("./environments/environment-spec.js").EnvironmentTemplate;
  /** Who may open its demos (nginx asks the controller for gated hosts); public when absent. */
  access?: import("./access/policy.js").AccessPolicy | undefined;
}

/** Where an app's demos may open connections: anywhere public, nowhere, or only the listed addresses (and ports). */
export type Egress = "internet" | "none" | EgressTarget[];
export interface EgressTarget {
  /** An IPv4 block in its network form, e.g. 10.1.2.3/32 or 10.0.0.0/8. */
  cidr: string;
  port?: number;
}

/**
 * What a typical web app needs (bind port 80, drop to its own user, own its files, signal its workers): Docker's
 * default set without NET_RAW (raw sockets, ARP spoofing), MKNOD, SETFCAP, SETPCAP, SYS_CHROOT and AUDIT_WRITE.
 */
export const DEFAULT_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"] as const;
export const DEFAULT_NOFILE = 4096;

/** The privileges and budgets a container runs with, as the runtime receives them. */
export type Hardening = Pick<AppSpec, "disk" | "capabilities" | "readOnly" | "tmpfs" | "nofile" | "egress">;

export function hardeningOf(app: AppSpec): Hardening {
  return { disk: app.disk, capabilities: app.capabilities, readOnly: app.readOnly, tmpfs: app.tmpfs, nofile: app.nofile, egress: app.egress };
}

/** `fields` are facts a JSON log keeps as keys (demo, app, requestId); a text log shows the request id. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
