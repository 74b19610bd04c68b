// The part of Compose demo-launcher runs: turns a valid, interpolated Compose document into an EnvironmentSpec, refusing the rest with the service and key named.
import { startOrder, type EnvironmentSpec, type RoutedService, type ServiceSpec } from "../core/environments/environment-spec.js";
import { checkTopVolumes, fileMounts, tmpfsMounts, topFiles, volumeMounts } from "./mounts.js";
import { aliasesOf, buildOf, commandOf, constraintsOf, dependenciesOf, healthcheckOf, keyValues, limitsOf, restartOf } from "./service-fields.js";
import { containerPortsOf, parseGoDuration } from "./values.js";

export interface SubsetOptions {
  /** The Compose file's folder, relative to the project's root ("." when it is at the root). */
  fileDir: string;
  /** Capabilities the app may have; `cap_add` of any other is refused. */
  capabilities: readonly string[];
  /** Profiles switched on; services with other profiles are left out. */
  profiles: readonly string[];
  /** The routed services the config names (`route`, `routes`); absent: the one service that publishes a port. */
  routes?: RoutedService[];
  /** Variables for `environment: [KEY]` entries without a value. */
  lookup: (name: string) => string | undefined;
  /** Values read from each service's env_file entries (the reader resolves and reads them), keyed by service. */
  envFiles?: Record<string, Record<string, string>>;
  /** The host's platform, for `platform:` (linux/amd64 here). */
  platform?: string;
}

export type SubsetResult = { ok: true; environment: EnvironmentSpec; warnings: string[] } | { ok: false; problems: string[] };

type Doc = Record<string, unknown>;

/** Keys run as Compose defines them. */
const SUPPORTED = new Set([
  "image", "build", "command", "entrypoint", "environment", "env_file", "expose", "ports", "healthcheck", "depends_on",
  "volumes", "tmpfs", "working_dir", "user", "labels", "deploy", "profiles", "restart", "init", "stop_signal",
  "stop_grace_period", "secrets", "configs", "networks", "cap_add", "cap_drop", "read_only", "hostname", "tty",
  "stdin_open", "mem_limit", "cpus", "pids_limit", "platform", "pull_policy",
  // Taken care of before this check: `extends` is merged by the reader.
]);

/** Keys that change nothing here, accepted with a warning that says why (real files for local development carry them). */
const IGNORED: Record<string, string> = {
  logging: "demo-launcher caps every container's log itself",
  develop: "Compose Watch is for local development",
  links: "service names are DNS names on the environment's network already",
};

/** Refused with the reason, before the generic "not supported". */
const REFUSED: Record<string, string> = {
  privileged: "a privileged container owns the host",
  devices: "host devices are not given to demos",
  container_name: "demo-launcher names containers itself (each environment runs many times at once)",
  userns_mode: "demos run in the host's user namespace setting",
  use_api_socket: "demos never get the Docker API",
  volumes_from: "each service declares its own volumes",
  external_links: "demos reach only their own environment",
  extra_hosts: "demos resolve only their own services and public names",
  sysctls: "kernel settings are the host's",
  security_opt: "demos run with demo-launcher's own security options",
  gpus: "no accelerator is given to demos",
  runtime: "demos run with the host's default container runtime",
  cgroup_parent: "demo-launcher places containers in its own cgroups",
  provider: "services run by a provider plugin are not supported",
  models: "model runners are not supported",
  post_start: "lifecycle hooks are not supported",
  pre_stop: "lifecycle hooks are not supported",
  scale: "each service runs once per environment (shared demos have replicas of whole environments)",
};

const HOST_OR_OTHER = /^(host|service:.*|container:.*)$/;
/** Namespaces a service may ask for: its own (what it gets anyway) or, for the network, none at all. */
const NAMESPACE_KEYS = ["network_mode", "pid", "ipc", "uts"];
const NAMESPACE_ALLOWED: Record<string, string[]> = { network_mode: ["none"], ipc: ["private", "shareable"] };

export function toEnvironment(document: Doc, options: SubsetOptions): SubsetResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const services = (document.services ?? {}) as Record<string, Doc>;
  for (const key of Object.keys(document)) {
    if (!["version", "name", "services", "volumes", "networks", "secrets", "configs"].includes(key) && !key.startsWith("x-")) problems.push(`${key}: the top-level key ${key} is not supported by demo-launcher`);
  }
  const volumes = checkTopVolumes(document.volumes, problems);
  checkTopNetworks(document.networks, problems);
  const files = topFiles(document, options, problems);
  const active = Object.entries(services).filter(([, service]) => {
    const profiles = service.profiles as string[] | undefined;
    return !profiles || profiles.some((profile) => options.profiles.includes(profile));
  });
  if (active.length === 0) problems.push("services: no service to run (a file needs at least one, and services whose profiles are not switched on are left out)");
  const activeNames = new Set(active.map(([name]) => name));
  const specs: ServiceSpec[] = [];
  for (const [name, service] of active) {
    const spec = serviceSpec(name, service, { ...options, volumes, files, activeNames, all: new Set(Object.keys(services)) }, problems, warnings);
    if (spec) specs.push(spec);
  }
  const ordered = startOrder(specs);
  if ("cycle" in ordered) problems.push(`services: depends_on goes round in a circle: ${ordered.cycle.join(" → ")}`);
  // A service with problems is missing from specs: choosing among the rest would word a misleading route problem.
  const routes = problems.length === 0 ? chooseRoutes(specs, options.routes, problems) : [];
  for (const route of routes) if (specs.find((spec) => spec.name === route.service)?.noNetwork) problems.push(`services.${route.service}.network_mode: "none" cannot be routed: nginx would have nothing to reach`);
  if (problems.length > 0) return { ok: false, problems };
  const used = new Set(specs.flatMap((spec) => spec.mounts.flatMap((mount) => (mount.kind === "volume" ? [mount.volume] : []))));
  return { ok: true, environment: { services: "order" in ordered ? ordered.order : specs, volumes: [...used], routes }, warnings };
}

interface ServiceContext extends SubsetOptions {
  volumes: Set<string>;
  files: Map<string, { kind: "secret" | "config"; source: string }>;
  activeNames: Set<string>;
  all: Set<string>;
}

function serviceSpec(name: string, service: Doc, context: ServiceContext, problems: string[], warnings: string[]): ServiceSpec | undefined {
  const at = `services.${name}`;
  const before = problems.length;
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) problems.push(`${at}: the service name must be lower-case letters, digits, ".", "_" or "-" (it becomes a DNS name)`);
  for (const key of Object.keys(service)) {
    if (key.startsWith("x-") || SUPPORTED.has(key) || NAMESPACE_KEYS.includes(key)) continue;
    if (REFUSED[key] !== undefined) problems.push(`${at}.${key}: refused: ${REFUSED[key]}`);
    else if (IGNORED[key] !== undefined) warnings.push(`${at}.${key} is ignored: ${IGNORED[key]}`);
    else problems.push(`${at}.${key}: not supported by demo-launcher (supported: ${[...SUPPORTED].sort().join(", ")})`);
  }
  for (const key of NAMESPACE_KEYS) {
    const value = service[key];
    if (value === undefined) continue;
    const text = String(value);
    if (HOST_OR_OTHER.test(text)) problems.push(`${at}.${key}: refused: ${JSON.stringify(text)} would share the host's or another container's namespace`);
    else if (!(NAMESPACE_ALLOWED[key] ?? []).includes(text)) problems.push(`${at}.${key}: ${JSON.stringify(text)} is not supported (allowed: ${(NAMESPACE_ALLOWED[key] ?? []).join(", ") || "none"})`);
  }
  const image = typeof service.image === "string" ? service.image : undefined;
  const build = buildOf(service.build, at, context, problems);
  if (!image && !build) problems.push(`${at}: needs an image or a build`);
  if (typeof service.platform === "string" && context.platform && service.platform !== context.platform) problems.push(`${at}.platform: ${service.platform} cannot run on this host (${context.platform})`);
  const labels = keyValues(service.labels, `${at}.labels`, problems, context.lookup, false);
  for (const key of Object.keys(labels)) if (key.startsWith("demo-launcher.")) problems.push(`${at}.labels.${key}: refused: labels under demo-launcher. are the controller's record of what it runs`);
  const env = { ...(context.envFiles?.[name] ?? {}), ...keyValues(service.environment, `${at}.environment`, problems, context.lookup, true) };
  const listens = new Set<number>();
  for (const [index, entry] of ((service.expose as unknown[]) ?? []).entries()) {
    const ports = containerPortsOf(typeof entry === "string" ? entry : Number(entry));
    if (!ports) problems.push(`${at}.expose[${index}]: ${JSON.stringify(entry)} is not a port`);
    else for (const port of ports) listens.add(port);
  }
  const publishes: number[] = [];
  for (const [index, entry] of ((service.ports as unknown[]) ?? []).entries()) {
    const ports = containerPortsOf(entry);
    if (!ports) problems.push(`${at}.ports[${index}]: ${JSON.stringify(entry)} is not a port spec such as 8080:80`);
    else for (const port of ports) (listens.add(port), publishes.push(port));
  }
  const healthcheck = healthcheckOf(service.healthcheck, at, problems);
  const dependsOn = dependenciesOf(service.depends_on, at, context, problems);
  const mounts = [...volumeMounts(service.volumes, at, context, problems), ...tmpfsMounts(service.tmpfs, at, problems), ...fileMounts(service, at, context, problems)];
  const capAdd = (service.cap_add as string[] | undefined)?.map((cap) => cap.replace(/^CAP_/, "").toUpperCase()) ?? [];
  for (const cap of capAdd) if (cap === "ALL" || !context.capabilities.includes(cap)) problems.push(`${at}.cap_add: refused: ${cap} is beyond the app's capabilities (allowed: ${context.capabilities.join(", ")}; an app's capabilities: key widens them)`);
  const capDrop = (service.cap_drop as string[] | undefined)?.map((cap) => cap.replace(/^CAP_/, "").toUpperCase()) ?? [];
  const limits = limitsOf(service, at, problems);
  const constraints = constraintsOf(service, at, problems);
  const restart = restartOf(service.restart, at, problems);
  const stopGraceMs = service.stop_grace_period === undefined ? undefined : parseGoDuration(service.stop_grace_period);
  if (service.stop_grace_period !== undefined && stopGraceMs === undefined) problems.push(`${at}.stop_grace_period: ${JSON.stringify(service.stop_grace_period)} is not a duration such as 10s or 1m30s`);
  const aliases = aliasesOf(service.networks, at, problems);
  if (problems.length > before) return undefined;
  return {
    name,
    // With build too, image names what the build makes: an app runs it as built beforehand.
    ...(image ? { image } : {}),
    ...(build ? { build } : {}),
    ...commandOf(service.command, `${at}.command`, problems, "command"),
    ...commandOf(service.entrypoint, `${at}.entrypoint`, problems, "entrypoint"),
    env,
    listens: [...listens],
    ...(healthcheck === "disabled" ? { healthcheckDisabled: true } : healthcheck ? { healthcheck } : {}),
    dependsOn,
    mounts,
    ...(typeof service.working_dir === "string" ? { workingDir: service.working_dir } : {}),
    ...(service.user !== undefined ? { user: String(service.user) } : {}),
    labels,
    limits,
    restart,
    ...(typeof service.init === "boolean" ? { init: service.init } : {}),
    ...(typeof service.stop_signal === "string" ? { stopSignal: service.stop_signal } : {}),
    ...(stopGraceMs !== undefined ? { stopGraceMs } : {}),
    aliases,
    ...(service.network_mode === "none" ? { noNetwork: true } : {}),
    ...(typeof service.hostname === "string" ? { hostname: service.hostname } : {}),
    ...(typeof service.read_only === "boolean" ? { readOnly: service.read_only } : {}),
    ...(typeof service.tty === "boolean" ? { tty: service.tty } : {}),
    ...(typeof service.stdin_open === "boolean" ? { stdinOpen: service.stdin_open } : {}),
    capAdd,
    capDrop,
    ...(publishes.length > 0 ? { publishes } : {}),
    ...(constraints.length > 0 ? { constraints } : {}),
  } as ServiceSpec;
}

function checkTopNetworks(value: unknown, problems: string[]): void {
  for (const [name, definition] of Object.entries((value ?? {}) as Record<string, Doc | null>)) {
    const network = definition ?? {};
    if (network.external) problems.push(`networks.${name}.external: refused: an environment reaches only its own network`);
    if (network.driver !== undefined && network.driver !== "bridge") problems.push(`networks.${name}.driver: ${JSON.stringify(network.driver)} is not supported (every network of a file is its environment's own bridge network)`);
    if (typeof network.name === "string") problems.push(`networks.${name}.name: refused: demo-launcher names networks per environment`);
  }
}

/** The config's routes, checked; or, when it names none, the one service that publishes a port. */
function chooseRoutes(services: ServiceSpec[], configured: RoutedService[] | undefined, problems: string[]): RoutedService[] {
  const byName = new Map(services.map((service) => [service.name, service]));
  if (configured && configured.length > 0) {
    for (const route of configured) if (!byName.has(route.service)) problems.push(`route: there is no service ${route.service} to route to (services: ${[...byName.keys()].join(", ")})`);
    return configured;
  }
  const publishing = services.filter((service) => (service.publishes ?? []).length > 0);
  const candidates = publishing.length > 0 ? publishing : services.length === 1 ? services : [];
  if (candidates.length !== 1) {
    const why = candidates.length > 1 ? `${candidates.map((service) => service.name).join(", ")} publish ports` : "no service publishes a port";
    problems.push(`route: say which service nginx routes to, such as route: { service: web, port: 3000 } (${why})`);
    return [];
  }
  const service = candidates[0]!;
  const ports = [...new Set(service.publishes ?? service.listens)];
  if (ports.length !== 1) {
    problems.push(`route: say which port of ${service.name} nginx routes to, such as route: { service: ${service.name}, port: ${ports[0] ?? 8080} } (${ports.length === 0 ? "it names no port" : `it listens on ${ports.join(", ")}`})`);
    return [];
  }
  return [{ service: service.name, port: ports[0]! }];
}
