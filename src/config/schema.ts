// The configuration's shape and its pure parser: every problem is collected and named by key.
import { z } from "zod";
import { formatBytes, type DiskFloor } from "../core/demos/disk.js";
import { APP_NAME_PATTERN, DOMAIN_PATTERN, SOURCE_PATTERN, address, appSchema, containerLimits, duration, port, positiveInt, size } from "./fields.js";
import { previewSourceSchema } from "./preview-schema.js";
import { appProblems, previewProblems } from "./compose-checks.js";
import { accessProblems } from "./access-schema.js";
import { githubSchema } from "./github-schema.js";
import { gitlabSchema } from "./gitlab-schema.js";
import { stateSchema } from "./state-schema.js";
import { SHARED_NAME, sharedSchema } from "./shared-schema.js";
import { ownHostProblems } from "./own-hosts.js";
import { adminSchema } from "./admin-schema.js";
import { runtimeSchema, swarmSchema } from "./swarm-schema.js";
import { tlsSchema } from "./tls-schema.js";

/** An app, and the named database states its demos start from and can be rewound to. */
export const appWithState = appSchema.extend({ state: stateSchema.optional() });
export type { Address } from "./fields.js";

export const configSchema = z.strictObject({
  domain: z.string({ error: "must be a DNS name such as demo.example.org" }).toLowerCase().regex(DOMAIN_PATTERN, "must be a DNS name such as demo.example.org (lowercase letters, digits, dots and hyphens)").default("demo.localhost"),
  listen: address.prefault("127.0.0.1:8081"),
  namespace: z.string({ error: "must be a short name" }).regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "must be a short name of lowercase letters, digits and hyphens").default("default"),
  idLength: z.number({ error: "must be a whole number from 8 to 32" }).int("must be a whole number from 8 to 32").min(8, "must be at least 8 (ids must be unguessable)").max(32, "must be at most 32").default(8),
  publicScheme: z.enum(["http", "https"], { error: "must be one of: http, https" }).optional(),
  publicPort: port.optional(),
  stateDir: z.string({ error: "must be a directory path" }).min(1).default(".run/state"),
  network: z.string({ error: "must be a Docker network name" }).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, "must be a Docker network name (letters, digits, _ . -)").default("demo-launcher"),
  adminToken: z.string({ error: "must be text" }).min(16, "must be at least 16 characters").optional(),
  trustedProxies: z.array(z.string({ error: "must be an IP address" }), { error: "must be a list of IP addresses" }).default(["127.0.0.1", "::1", "::ffff:127.0.0.1"]),
  reaper: z
    .strictObject({ interval: duration.prefault("1s") }, { error: "must be a map with interval" })
    .default({ interval: 1000 }),
  nginx: z
    .strictObject({
      listen: address.prefault("127.0.0.1:8080"),
      listenTls: address.optional(),
      configDir: z.string({ error: "must be a directory path" }).min(1, "must not be empty").default(".run/nginx"),
      controller: address.optional(),
      probeUrl: z.url({ error: "must be a URL such as http://127.0.0.1:80" }).optional(),
      testCommand: z.string({ error: "must be a command line" }).min(1, "must not be empty").default("nginx -t -q"),
      reloadCommand: z.string({ error: "must be a command line" }).min(1, "must not be empty").default("nginx -s reload"),
      debounce: duration.prefault("100ms"),
      drain: duration.prefault("10s"),
      seenLog: z.string({ error: "must be a file path" }).regex(/^[A-Za-z0-9._\/-]+$/, "must be a file path of letters, digits and . _ - / (nginx writes it as it is)").optional(),
    }, { error: "must be a map" })
    .default({ listen: { host: "127.0.0.1", port: 8080 }, configDir: ".run/nginx", testCommand: "nginx -t -q", reloadCommand: "nginx -s reload", debounce: 100, drain: 10_000 }),
  ports: z
    .strictObject({ from: port, to: port }, { error: "must be a map with from and to" })
    .refine((range) => range.from <= range.to, { message: "from must not be greater than to" })
    .default({ from: 20000, to: 29999 }),
  limits: z
    .strictObject(
      {
        maxDemos: positiveInt("demos").default(50),
        perClient: positiveInt("demos").default(1),
        queueLength: z.number({ error: "must be a whole number of waiting visitors, 0 or more" }).int("must be a whole number, 0 or more").min(0, "must be 0 or more").default(20),
        launchesPerClient: positiveInt("launches").default(10),
        launchWindow: duration.prefault("10m"),
        /** The memory all running demos may be given together (each demo's containers' limits summed): a launch that would pass it waits in line. */
        memory: size.optional(),
        /** Below this much free space under Docker's data root, launches are refused: a size (2g) or a share (5%); default the larger of 5% and 2g. */
        minFreeDisk: z
          .union([z.number(), z.string()], { error: "must be a size such as 2g or a share of the disk such as 5%" })
          .transform((value, ctx): DiskFloor => {
            const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(String(value).trim());
            if (percent && Number(percent[1]) > 0 && Number(percent[1]) < 100) return { percent: Number(percent[1]) };
            const bytes = size.safeParse(value);
            if (!percent && bytes.success) return { bytes: bytes.data };
            ctx.addIssue({ code: "custom", message: "must be a size such as 2g or a share of the disk from 0% to 100% such as 5%" });
            return z.NEVER;
          })
          .optional()
          .transform((floor): DiskFloor => floor ?? "default"),
        /** Visitors of one network share these (never fewer than one visitor's own), so a handful of addresses cannot take every slot. */
        perNetwork: z
          .strictObject({
            demos: positiveInt("demos").default(4),
            launches: positiveInt("launches").default(20),
            ipv4: z.number({ error: "must be a prefix length from 8 to 32" }).int("must be a whole number from 8 to 32").min(8, "must be at least 8").max(32, "must be at most 32").default(24),
            ipv6: z.number({ error: "must be a prefix length from 16 to 64" }).int("must be a whole number from 16 to 64").min(16, "must be at least 16").max(64, "must be at most 64 (one IPv6 visitor is a /64)").default(64),
          }, { error: "must be a map with demos, launches, ipv4 and ipv6" })
          .prefault({}),
      },
      { error: "must be a map with maxDemos, perClient, queueLength, launchesPerClient, launchWindow, minFreeDisk and perNetwork" },
    )
    .prefault({}),
  allowedOrigins: z
    .array(z.string().regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, "must be an origin such as https://www.example.com (scheme, host, optional port; no path)"), { error: "must be a list of origins" })
    .default([]),
  templatesDir: z.string({ error: "must be a directory path" }).min(1, "must not be empty").optional(),
  brand: z
    .strictObject(
      {
        title: z.string({ error: "must be text" }).min(1, "must not be empty").max(120, "must be at most 120 characters").default("Try it live"),
        text: z.string({ error: "must be text" }).max(600, "must be at most 600 characters").default("Press the button and get your own private copy, on its own address. Nobody else sees your changes, and it cleans itself up when its time is over."),
        logo: z.string({ error: "must be the path of a .png, .svg, .jpg or .webp file" }).regex(/\.(png|svg|jpe?g|webp)$/i, "must be the path of a .png, .svg, .jpg or .webp file").optional(),
        accentColor: z.string({ error: "must be a colour such as #2457d6" }).regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/, "must be a colour such as #2457d6").default("#2457d6"),
        backgroundColor: z.string({ error: "must be a colour such as #f6f7fb" }).regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/, "must be a colour such as #f6f7fb").default("#f6f7fb"),
      },
      { error: "must be a map with title, text, logo, accentColor and backgroundColor" },
    )
    .prefault({}),
  previews: z
    .record(z.string().regex(SOURCE_PATTERN, "must be a source name of 1 to 20 lowercase letters and digits, starting with a letter (no hyphen: it separates the source in preview hosts)"), previewSourceSchema, { error: "must be a map of source names to preview settings" })
    .default({}),
  tls: tlsSchema.optional(),
  github: githubSchema.optional(),
  gitlab: gitlabSchema.optional(),
  builds: z
    .strictObject({
      concurrency: positiveInt("builds").max(16, "must be at most 16").default(2),
      timeout: duration.prefault("15m"),
      queueLength: z.number({ error: "must be a whole number of builds, 0 or more" }).int("must be a whole number, 0 or more").min(0, "must be 0 or more").max(10_000, "must be at most 10000").default(50),
      minFreeDisk: size.prefault("2g"),
      /** Each build step's container: what one untrusted Dockerfile may take of the host while it builds. */
      memory: size.prefault("2g"),
      cpus: z.number({ error: "must be a number of CPUs such as 1" }).positive("must be more than 0").max(64, "must be at most 64").default(1),
      /** Processes all steps of one build may hold together: a fork bomb in a RUN step stops there. */
      pids: positiveInt("processes").max(100_000, "must be at most 100000").default(1024),
      /** The most an image (its base and layers) and the step being built may take on disk; beyond it the build is stopped. */
      disk: size.prefault("4g"),
      /** What build steps may reach: the build network's rules, like an app's (the host and private ranges never). */
      egress: containerLimits.egress,
      /** Images kept per preview source at most (beyond `keep`): the least recently used unused ones go first. */
      maxImagesPerSource: positiveInt("images").max(1000, "must be at most 1000").default(10),
    }, { error: "must be a map with concurrency, timeout, queueLength, minFreeDisk, memory, cpus, pids, disk, egress and maxImagesPerSource" })
    .prefault({}),
  metrics: z
    .strictObject({ enabled: z.boolean({ error: "must be true or false" }).default(true) }, { error: "must be a map with enabled" })
    .prefault({}),
  admin: adminSchema,
  /** docker: one host, demos on loopback ports. swarm: demos as services spread over a Docker Swarm. */
  runtime: runtimeSchema,
  swarm: swarmSchema,
  log: z
    .strictObject({ format: z.enum(["text", "json"], { error: "must be one of: text, json" }).default("text") }, { error: "must be a map with format" })
    .prefault({}),
  /** Credentials of registries a Compose file's images are pulled from, by registry host (host or host:port). */
  registries: z
    .record(
      z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/, "must be a registry host such as registry.example.org or 127.0.0.1:5000"),
      z.strictObject({
        username: z.string({ error: "must be the user name for the registry" }).min(1, "must not be empty"),
        password: z.string({ error: "must be the password or token" }).min(1, "must not be empty").optional(),
        /** A file holding the password (from the config's folder): kept out of the config file. */
        passwordFile: z.string({ error: "must be the path of a file holding the password" }).min(1, "must not be empty").optional(),
      }, { error: "must be a map with username and password (or passwordFile)" }).refine((entry) => (entry.password === undefined) !== (entry.passwordFile === undefined), { message: "must have exactly one of password and passwordFile" }),
      { error: "must be a map of registry hosts to { username, password }" },
    )
    .default({}),
  /** Shared demos: the name is the host's first label (try → try.<domain>). */
  shared: z
    .record(z.string().regex(SHARED_NAME, "must be a shared demo name of 3 to 40 lowercase letters, digits and inner hyphens, starting with a letter (its host is <name>.<domain>)"), sharedSchema, { error: "must be a map of names to shared demo settings" })
    .default({}),
  apps: z
    .record(z.string().regex(APP_NAME_PATTERN, "must be an app name of lowercase letters, digits and hyphens, starting with a letter"), appWithState, { error: "must be a map of app names to app settings" })
    .refine((apps) => Object.keys(apps).length > 0, { message: "must name at least one app" })
    // The rest of the embedded app (limits, privileges, readiness) comes from the app schema's own defaults.
    .prefault({
      hello: {
        image: "demo-launcher/hello:latest",
        port: 8080,
        title: "Hello guestbook",
        description: "A tiny guestbook: sign it, and only you see your entries.",
      },
    }),
}, { error: "must be a map of settings" }).superRefine((config, ctx) => {
  for (const problem of [...accessProblems(config), ...ownHostProblems(config)]) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  // A console on a demo's sibling host would share its cookies with the demos: the apex serves it then.
  if (config.admin.host && (config.admin.host === config.domain || config.admin.host.endsWith(`.${config.domain}`))) {
    ctx.addIssue({ code: "custom", path: ["admin", "host"], message: `must be outside ${config.domain} (a host under it could be a demo's; leave admin.host out to serve the console on ${config.domain})` });
  }
  for (const [name, app] of Object.entries(config.apps)) {
    if (config.limits.memory !== undefined && app.memory > config.limits.memory) ctx.addIssue({ code: "custom", path: ["apps", name, "memory"], message: `must be at most limits.memory (${formatBytes(config.limits.memory)}): a demo of it could never start` });
    for (const problem of appProblems(app, config.runtime === "swarm")) ctx.addIssue({ code: "custom", path: ["apps", name, ...problem.path], message: problem.message });
  }
  for (const [name, preview] of Object.entries(config.previews)) {
    for (const problem of previewProblems(preview, config.runtime === "swarm", config)) ctx.addIssue({ code: "custom", path: ["previews", name, ...problem.path], message: problem.message });
  }
  for (const [name, repo] of Object.entries(config.github?.repos ?? {})) {
    for (const problem of previewProblems(repo, config.runtime === "swarm", config)) ctx.addIssue({ code: "custom", path: ["github", "repos", name, ...problem.path], message: problem.message });
  }
  for (const [name, project] of Object.entries(config.gitlab?.projects ?? {})) {
    for (const problem of previewProblems(project, config.runtime === "swarm", config)) ctx.addIssue({ code: "custom", path: ["gitlab", "projects", name, ...problem.path], message: problem.message });
  }
  for (const [name, shared] of Object.entries(config.shared)) {
    const app = Object.hasOwn(config.apps, shared.app) ? config.apps[shared.app] : undefined;
    if (!app) ctx.addIssue({ code: "custom", path: ["shared", name, "app"], message: `must be one of the apps: ${Object.keys(config.apps).join(", ")}` });
    else if (shared.source !== undefined && !Object.hasOwn(app.state?.sources ?? {}, shared.source)) {
      ctx.addIssue({ code: "custom", path: ["shared", name, "source"], message: app.state ? `must be one of the state sources of ${shared.app}: ${Object.keys(app.state.sources).join(", ")}` : `needs state sources under apps.${shared.app}.state` });
    }
    // Visitor ids are exactly idLength letters and digits: a shared name that could be one might meet a visitor's demo.
    if (new RegExp(`^[a-z0-9]{${config.idLength}}$`).test(name)) ctx.addIssue({ code: "custom", path: ["shared", name], message: `a name of exactly ${config.idLength} letters and digits could be a visitor's demo id; use a shorter or longer name, or one with a hyphen` });
  }
});

export type RawConfig = z.output<typeof configSchema>;
type RawApp = RawConfig["apps"][string];
/**
 * An app as the controller runs it: an image and port, given in the file or, for an app that names a Compose file,
 * the routed service's (filled in by prepareEnvironments when the controller starts; "" and 0 until then).
 */
export type AppConfig = Omit<RawApp, "image" | "port"> & {
  image: string;
  port: number;
  /** The folder a compose file's paths are taken from: the config file's own. */
  composeRoot?: string;
  environment?: import("../core/environments/environment-spec.js").EnvironmentTemplate;
  /** What one demo of a compose app is given in all (its services' memory limits summed). */
  demoMemory?: number;
  /** A compose app's services and the images they run, as its file named them when the controller started. */
  serviceImages?: Record<string, string>;
};
export type PreviewConfig = RawConfig["previews"][string];

export interface ConfigProblem {
  key: string;
  message: string;
}

/** A key as the operator should read it: an empty or blank key (YAML's `~:` or `"":`) is shown quoted. */
function keyName(key: PropertyKey): string {
  const text = String(key);
  return text.trim() === "" ? JSON.stringify(text) : text;
}

export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: ConfigProblem[]) {
    super(`${source} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Parses already-read YAML data; pure. Throws ConfigError listing every problem at once. */
export function parseConfig(input: unknown, source = "config"): RawConfig {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    const key = issue.path.map(keyName).join(".") || "(top level)";
    if (issue.code === "unrecognized_keys") {
      for (const unknownKey of issue.keys) {
        const parentKeys = describeAllowedKeys(issue.path);
        const nearest = parentKeys.split(", ").find((allowedKey) => allowedKey.toLowerCase() === unknownKey.toLowerCase());
        problems.push({ key: [...issue.path, unknownKey].map(keyName).join("."), message: `unknown key${nearest ? ` (did you mean ${nearest}?)` : ""}${parentKeys ? `; allowed keys here: ${parentKeys}` : ""}` });
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      const badKey = String(issue.path.at(-1) ?? "");
      problems.push({ key, message: `${show(badKey)} ${issue.issues[0]?.message ?? "is not an allowed name"}` });
      continue;
    }
    const value = valueAt(input, issue.path);
    // A key that is not there at all is missing, not wrong.
    if (value === undefined && issue.path.length > 0) problems.push({ key, message: `is missing; it ${issue.message}` });
    else problems.push({ key, message: `${show(value)} ${issue.message.startsWith("must") || issue.message.startsWith("from") ? "is wrong: " : ""}${issue.message}` });
  }
  throw new ConfigError(source, problems);
}

function describeAllowedKeys(path: readonly PropertyKey[]): string {
  let shape: z.ZodType = configSchema;
  for (const key of path) {
    shape = unwrap(shape);
    if (shape instanceof z.ZodObject) shape = (shape.shape as Record<string, z.ZodType>)[String(key)] ?? shape;
    else if (shape instanceof z.ZodRecord) shape = shape.valueType as z.ZodType;
    else return "";
  }
  shape = unwrap(shape);
  return shape instanceof z.ZodObject ? Object.keys(shape.shape).join(", ") : "";
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 8; depth += 1) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else break;
  }
  return current;
}

