// The config's field types, written once: durations, sizes, addresses, ports, limits, env, readiness, apps and preview sources.
import { DEFAULT_CAPABILITIES, DEFAULT_NOFILE } from "../core/app-spec.js";
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { accessSchema, appAccessSchema } from "./access-schema.js";

export const DURATION_HELP = "a number followed by ms, s, m, h or d (for example 90s, 10m, 1h)";
export const SIZE_HELP = "a number of bytes or a number followed by k, m or g (for example 256m, 1g)";
export const ADDRESS_HELP = "host:port with a port from 1 to 65535 (for example 127.0.0.1:8081)";

export const duration = z.string({ error: `must be ${DURATION_HELP}` }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `must be ${DURATION_HELP}` });
    return z.NEVER;
  }
  return ms;
});

export const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
export const size = z.union([z.number(), z.string()], { error: `must be ${SIZE_HELP}` }).transform((value, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)$/i.exec(String(value).trim());
  const bytes = match ? Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes < 6 * 1024 * 1024) {
    ctx.addIssue({ code: "custom", message: `must be ${SIZE_HELP}, at least 6m (Docker's minimum)` });
    return z.NEVER;
  }
  return bytes;
});

export interface Address {
  host: string;
  port: number;
}

export const address = z.string({ error: `must be ${ADDRESS_HELP}` }).transform((text, ctx): Address => {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    ctx.addIssue({ code: "custom", message: `must be ${ADDRESS_HELP}` });
    return z.NEVER;
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
});

export const port = z.number({ error: "must be a whole number from 1 to 65535" }).int("must be a whole number from 1 to 65535").min(1, "must be from 1 to 65535").max(65535, "must be from 1 to 65535");
export const positiveInt = (what: string) => z.number({ error: `must be a whole number of ${what}, at least 1` }).int(`must be a whole number of ${what}, at least 1`).min(1, `must be a whole number of ${what}, at least 1`);
export const DOMAIN_PATTERN = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** A demo's own name outside the domain (shared.<name>.hosts, previews.<source>.hosts). */
export const ownHostName = z.string({ error: "must be a DNS name such as shop.example.org" }).toLowerCase().regex(DOMAIN_PATTERN, "must be a DNS name such as shop.example.org").refine((host) => host.includes("."), { message: "must be a DNS name with a dot, such as shop.example.org" });
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Linux capabilities by name, as Docker takes them (without CAP_). */
export const CAPABILITIES = ["AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM"] as const;

const EGRESS_HELP = "must be internet (public addresses only, the default), none, or a list of IPv4 addresses or blocks with an optional port, such as [10.1.2.3:5432, 192.0.2.0/24]";
/** One place a demo may reach: an IPv4 address or block, optionally one TCP port; single addresses become /32. */
const egressTarget = z.string({ error: EGRESS_HELP }).transform((text, ctx) => {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?::(\d{1,5}))?$/.exec(text.trim());
  const octets = match?.[1]!.split(".").map(Number) ?? [];
  const prefix = match?.[2] === undefined ? 32 : Number(match[2]);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || octets.some((octet) => octet > 255) || prefix > 32 || (port !== undefined && (port < 1 || port > 65535))) {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not an IPv4 address or block with an optional port, such as 10.1.2.3:5432 or 192.0.2.0/24` });
    return z.NEVER;
  }
  // iptables keeps a block by its network address: 10.1.2.3/8 would read back as 10.0.0.0/8.
  const bits = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const network = prefix === 0 ? 0 : (bits - (bits % 2 ** (32 - prefix)));
  const cidr = `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".")}/${prefix}`;
  return port === undefined ? { cidr } : { cidr, port };
});

/** What apps and preview sources share: the container's limits, privileges, environment and readiness check. */
export const containerLimits = {
  memory: size.prefault("256m"),
  cpus: z.number({ error: "must be a number of CPUs such as 0.5" }).positive("must be more than 0").max(64, "must be at most 64").default(0.5),
  pids: positiveInt("processes").max(100_000, "must be at most 100000").default(256),
  /** What the container may write to its own file system (its writable layer), beyond which the demo ends. */
  disk: size.prefault("1g"),
  capabilities: z
    .array(z.enum(CAPABILITIES, { error: `must be a Linux capability such as NET_BIND_SERVICE; allowed: ${CAPABILITIES.join(", ")}` }), { error: "must be a list of capability names such as [CHOWN, SETUID, SETGID]" })
    .default([...DEFAULT_CAPABILITIES]),
  readOnly: z.boolean({ error: "must be true or false" }).default(false),
  tmpfs: z
    .record(z.string().regex(/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "must be an absolute path such as /tmp (letters, digits, . _ -)").refine((value) => !value.split("/").includes(".."), { message: "must not contain .." }), size, { error: "must be a map of paths to sizes, such as { /tmp: 64m }" })
    .default({}),
  nofile: positiveInt("open files").max(1_048_576, "must be at most 1048576").default(DEFAULT_NOFILE),
  egress: z
    .union([z.enum(["internet", "none"]), z.array(egressTarget, { error: EGRESS_HELP })], { error: EGRESS_HELP })
    .default("internet"),
};
export const envSchema = z
  .record(z.string().regex(ENV_NAME_PATTERN, "must be an environment variable name (letters, digits, _)"), z.union([z.string(), z.number(), z.boolean()], { error: "must be text, a number or true/false" }).transform(String), { error: "must be a map of NAME: value" })
  .default({});
export const readinessSchema = z
  .strictObject({
    path: z.string({ error: "must be a path starting with /" }).startsWith("/", "must be a path starting with /").default("/"),
    timeout: duration.prefault("60s"),
  }, { error: "must be a map with path and timeout" })
  .default({ path: "/", timeout: 60_000 });

/** runtime: swarm only: where an app's (or a preview source's) demos may run, beside swarm.constraints. */
const placementSchema = z
  .strictObject({ constraints: z.array(z.string({ error: "must be a constraint such as node.labels.big==yes" }).regex(/^[A-Za-z0-9_.\-]+\s*(==|!=)\s*[A-Za-z0-9_.\-]+$/, "must be a constraint such as node.labels.big==yes or node.role!=manager"), { error: "must be a list of constraints" }).default([]) }, { error: "must be a map with constraints" })
  .optional();

/** A Compose service nginx routes to, and the port it listens on inside its container. */
const routedService = z.strictObject({
  service: z.string({ error: "must be the name of a service of the Compose file" }).min(1, "must not be empty"),
  port: port,
}, { error: "must be a map with service and port, such as { service: web, port: 3000 }" });

/** What an app, preview source or repository says about its Compose file (instead of image and port). */
export const composeFields = {
  /** A Compose file: for an app, a path from the config's folder; for previews, a path inside the repository. */
  compose: z
    .string({ error: "must be the path of a Compose file, such as demo/compose.yaml" })
    .min(1, "must not be empty")
    .refine((value) => !value.startsWith("/") && !value.split("/").includes(".."), { message: "must be a path inside the config's folder (no leading /, no ..)" })
    .optional(),
  route: routedService.optional(),
  routes: z
    .array(routedService.extend({ name: z.string({ error: "must be a host name part such as api" }).regex(/^[a-z][a-z0-9]{0,19}$/, "must be 1 to 20 lowercase letters and digits, starting with a letter (the host becomes <name>-<id>.<domain>)") }), { error: "must be a list of { service, port, name }" })
    .optional(),
  profiles: z.array(z.string({ error: "must be a Compose profile name" }), { error: "must be a list of Compose profiles" }).optional(),
};

export const appSchema = z.strictObject({
  /** An image to run, or (instead) `compose:` below. */
  image: z.string({ error: "must be an image reference such as demo-launcher/hello:latest" }).min(1, "must not be empty").optional(),
  /** The image's port; with `compose:`, the routed service's `route.port`. */
  port: port.optional(),
  ...composeFields,
  title: z.string({ error: "must be text" }).optional(),
  description: z.string({ error: "must be text" }).optional(),
  ttl: duration.prefault("10m"),
  ...containerLimits,
  env: envSchema,
  banner: z.boolean({ error: "must be true or false" }).default(true),
  pool: z.number({ error: "must be a whole number of warm containers, 0 or more" }).int("must be a whole number, 0 or more").min(0, "must be 0 or more").max(100, "must be at most 100").default(0),
  prepared: z.number({ error: "must be a whole number of containers created ahead, 0 or more" }).int("must be a whole number, 0 or more").min(0, "must be 0 or more").max(100, "must be at most 100").default(0),
  readiness: readinessSchema,
  placement: placementSchema,
  access: appAccessSchema.optional(),
}, { error: "must be a map with at least image and port (or a compose file)" });

/** Any URL or path git can fetch; `<transport>::` forms (ext:: runs a command) are refused. */
export const REPO_PATTERN = /^((git|https?|ssh|file):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+|[^:\s-][^\s]*)$/;
export const SOURCE_PATTERN = /^[a-z][a-z0-9]{0,19}$/;
export const relativePath = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .min(1, "must not be empty")
    .refine((value) => !value.startsWith("/") && !value.split("/").includes("..") && !value.startsWith("-"), { message: `must be ${what} inside the repository (no leading /, no ..)` });

export const previewSchema = z.strictObject({
  repo: z.string({ error: "must be a git URL (git://, https://, ssh://, file://) or a path" }).regex(REPO_PATTERN, "must be a git URL (git://, https://, ssh://, file://), user@host:path or a path; other transports are refused"),
  /** Without compose: the Dockerfile (default Dockerfile) and its context (default the repository's root). */
  dockerfile: relativePath("a Dockerfile path").optional(),
  context: relativePath("a folder").optional(),
  /** The image's port; with compose, route.port. */
  port: port.optional(),
  /** A Compose file inside the repository: every service with build: is built from the commit, one image per service and context. */
  compose: relativePath("the path of a Compose file").optional(),
  route: composeFields.route,
  routes: composeFields.routes,
  profiles: composeFields.profiles,
  ...containerLimits,
  env: envSchema,
  readiness: readinessSchema,
  refresh: duration.prefault("5m"),
  idleStop: duration.prefault("30m"),
  keep: duration.prefault("7d"),
  /** Pages shot in a desktop and a phone viewport once a pull or merge request's preview is ready, shown in its comment. */
  screenshots: z.array(z.string({ error: "must be a path such as /pricing" }).regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]{0,200}$/, "must be a path such as /pricing (starting with /, no spaces)"), { error: "must be a list of paths such as [/, /pricing]" }).max(5, "must name at most 5 pages").optional(),
  /** A hard end: the most a preview lives since it was first served, however much it is used (`keep` ends it sooner when unused). */
  ttl: duration.optional(),
  placement: placementSchema,
  access: accessSchema.optional(),
}, { error: "must be a map with at least repo and port (or a compose file)" });
