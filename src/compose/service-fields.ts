// One service's Compose fields read into its spec: build, environment, command, healthcheck, depends_on, limits, restart, aliases.
import type { BuildSpec, DependencyCondition, HealthcheckSpec, ServiceSpec } from "../core/environments/environment-spec.js";
import { insideProject } from "./mounts.js";
import { parseByteSize, parseGoDuration, shellWords } from "./values.js";

type Doc = Record<string, unknown>;

/** What the fields are checked against: the file's folder, the variables, which services run. */
export interface FieldContext {
  fileDir: string;
  lookup: (name: string) => string | undefined;
  activeNames: Set<string>;
  all: Set<string>;
}

export function buildOf(value: unknown, at: string, context: FieldContext, problems: string[]): BuildSpec | undefined {
  if (value === undefined) return undefined;
  const long = (typeof value === "string" ? { context: value } : value) as Doc;
  for (const key of Object.keys(long)) {
    if (!["context", "dockerfile", "args", "target", "labels"].includes(key) && !key.startsWith("x-")) problems.push(`${at}.build.${key}: not supported by demo-launcher's builder (supported: context, dockerfile, args, target)`);
  }
  const contextPath = typeof long.context === "string" ? long.context : ".";
  if (/^[a-z]+:\/\/|^git@/.test(contextPath)) {
    problems.push(`${at}.build.context: ${JSON.stringify(contextPath)}: refused: a build context is a folder of the project, not a URL`);
    return undefined;
  }
  const inside = insideProject(context.fileDir, contextPath);
  if (!inside) {
    problems.push(`${at}.build.context: ${JSON.stringify(contextPath)}: refused: outside the project's folder`);
    return undefined;
  }
  if (typeof long.dockerfile === "string" && !insideProject(".", long.dockerfile)) problems.push(`${at}.build.dockerfile: ${JSON.stringify(long.dockerfile)}: refused: outside the build context`);
  const args = keyValues(long.args, `${at}.build.args`, problems, context.lookup, true);
  return { context: inside, ...(typeof long.dockerfile === "string" ? { dockerfile: long.dockerfile } : {}), args, ...(typeof long.target === "string" ? { target: long.target } : {}) };
}

/** environment, labels and build args: a map, or a list of KEY=VALUE (a bare KEY takes its value from the variables). */
export function keyValues(value: unknown, at: string, problems: string[], lookup: (name: string) => string | undefined, bareFromLookup: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = String(entry);
      const equals = text.indexOf("=");
      if (equals > 0) out[text.slice(0, equals)] = text.slice(equals + 1);
      else if (bareFromLookup) {
        const fromLookup = lookup(text);
        if (fromLookup !== undefined) out[text] = fromLookup;
      } else out[text] = "";
    }
    return out;
  }
  if (typeof value === "object") {
    for (const [key, item] of Object.entries(value as Doc)) {
      if (item === null || item === undefined) {
        const fromLookup = bareFromLookup ? lookup(key) : "";
        if (fromLookup !== undefined) out[key] = fromLookup;
      } else if (typeof item === "object") problems.push(`${at}.${key}: must be a string, a number or a boolean`);
      else out[key] = String(item);
    }
  }
  return out;
}

export function commandOf(value: unknown, at: string, problems: string[], key: "command" | "entrypoint"): Partial<Record<"command" | "entrypoint", string[]>> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) return { [key]: value.map(String) };
  const words = shellWords(String(value));
  if (!words) {
    problems.push(`${at}: ${JSON.stringify(value)} has a quote that is never closed`);
    return {};
  }
  return { [key]: words };
}

export function healthcheckOf(value: unknown, at: string, problems: string[]): HealthcheckSpec | "disabled" | undefined {
  if (value === undefined) return undefined;
  const check = value as Doc;
  if (check.disable === true) return "disabled";
  const test = check.test;
  let argv: string[] | undefined;
  if (typeof test === "string") argv = ["CMD-SHELL", test];
  else if (Array.isArray(test) && test.length > 0) {
    argv = test.map(String);
    if (argv[0] === "NONE") return "disabled";
    if (!["CMD", "CMD-SHELL"].includes(argv[0]!)) problems.push(`${at}.healthcheck.test: must start with CMD, CMD-SHELL or NONE, found ${JSON.stringify(argv[0])}`);
  }
  const spec: HealthcheckSpec = { test: argv ?? [] };
  for (const [key, field] of [["interval", "intervalMs"], ["timeout", "timeoutMs"], ["start_period", "startPeriodMs"], ["start_interval", "startIntervalMs"]] as const) {
    if (check[key] === undefined) continue;
    const ms = parseGoDuration(check[key]);
    if (ms === undefined) problems.push(`${at}.healthcheck.${key}: ${JSON.stringify(check[key])} is not a duration such as 5s or 1m30s`);
    else spec[field] = ms;
  }
  if (check.retries !== undefined) spec.retries = Number(check.retries);
  // A check that only changes timing keeps the image's own test.
  if (!argv) return Object.keys(spec).length > 1 ? { ...spec, test: [] } : undefined;
  return spec;
}

export function dependenciesOf(value: unknown, at: string, context: FieldContext, problems: string[]): ServiceSpec["dependsOn"] {
  if (value === undefined) return [];
  const entries: Array<[string, Doc]> = Array.isArray(value) ? value.map((name) => [String(name), {}]) : Object.entries(value as Record<string, Doc>);
  const out: ServiceSpec["dependsOn"] = [];
  for (const [service, options] of entries) {
    const required = options.required !== false;
    if (!context.activeNames.has(service)) {
      if (!required) continue;
      problems.push(context.all.has(service) ? `${at}.depends_on: ${service} is left out (its profiles are not switched on); switch them on, or mark the dependency required: false` : `${at}.depends_on: there is no service ${service}`);
      continue;
    }
    const condition = (options.condition as DependencyCondition | undefined) ?? "service_started";
    out.push({ service, condition });
  }
  return out;
}

export function limitsOf(service: Doc, at: string, problems: string[]): ServiceSpec["limits"] {
  const deploy = (service.deploy ?? {}) as Doc;
  for (const key of Object.keys(deploy)) if (key !== "resources" && key !== "placement" && !key.startsWith("x-")) problems.push(`${at}.deploy.${key}: not supported by demo-launcher (supported: deploy.resources.limits, deploy.placement.constraints)`);
  const resources = (deploy.resources ?? {}) as Doc;
  for (const key of Object.keys(resources)) if (key !== "limits" && key !== "reservations" && !key.startsWith("x-")) problems.push(`${at}.deploy.resources.${key}: not supported (supported: limits)`);
  const limits = (resources.limits ?? {}) as Doc;
  const out: ServiceSpec["limits"] = {};
  const memory = limits.memory ?? service.mem_limit;
  if (memory !== undefined) {
    const bytes = parseByteSize(memory);
    if (bytes === undefined || bytes < 6 * 1024 * 1024) problems.push(`${at}.deploy.resources.limits.memory: ${JSON.stringify(memory)} is not a size of at least 6m (such as 256m or 1g)`);
    else out.memory = bytes;
  }
  const cpus = limits.cpus ?? service.cpus;
  if (cpus !== undefined) {
    const count = Number(cpus);
    if (!(count > 0)) problems.push(`${at}.deploy.resources.limits.cpus: ${JSON.stringify(cpus)} is not a number of CPUs such as 0.5`);
    else out.cpus = count;
  }
  const pids = limits.pids ?? service.pids_limit;
  if (pids !== undefined) {
    const count = Number(pids);
    if (!Number.isInteger(count) || count < 1) problems.push(`${at}.deploy.resources.limits.pids: ${JSON.stringify(pids)} is not a whole number of processes`);
    else out.pids = count;
  }
  return out;
}

/** Compose's `deploy.placement.constraints`: where Swarm may run the service (runtime: swarm; one host has one place). */
export function constraintsOf(service: Doc, at: string, problems: string[]): string[] {
  const placement = ((service.deploy ?? {}) as Doc).placement as Doc | undefined;
  if (placement === undefined) return [];
  for (const key of Object.keys(placement)) if (key !== "constraints" && !key.startsWith("x-")) problems.push(`${at}.deploy.placement.${key}: not supported (supported: constraints)`);
  const constraints = placement.constraints ?? [];
  if (!Array.isArray(constraints)) {
    problems.push(`${at}.deploy.placement.constraints: must be a list such as [node.labels.db==yes]`);
    return [];
  }
  return constraints.flatMap((constraint, index) => {
    if (typeof constraint === "string" && CONSTRAINT.test(constraint)) return [constraint];
    problems.push(`${at}.deploy.placement.constraints[${index}]: ${JSON.stringify(constraint)} is not a constraint such as node.labels.db==yes or node.role!=manager`);
    return [];
  });
}

const CONSTRAINT = /^[A-Za-z0-9_.\-]+\s*(==|!=)\s*[A-Za-z0-9_.\-]+$/;

export function restartOf(value: unknown, at: string, problems: string[]): ServiceSpec["restart"] {
  if (value === undefined) return "no";
  const text = String(value);
  const policy = text.startsWith("on-failure") ? "on-failure" : text;
  if (!["no", "always", "on-failure", "unless-stopped"].includes(policy)) {
    problems.push(`${at}.restart: ${JSON.stringify(value)} is not a restart policy (allowed: no, always, on-failure, unless-stopped)`);
    return "no";
  }
  return policy as ServiceSpec["restart"];
}

export function aliasesOf(value: unknown, at: string, problems: string[]): string[] {
  if (value === undefined || Array.isArray(value)) return [];
  const aliases: string[] = [];
  for (const [network, options] of Object.entries(value as Record<string, Doc | null>)) {
    for (const key of Object.keys(options ?? {})) {
      if (key === "aliases") aliases.push(...((options!.aliases as string[]) ?? []));
      else if (!key.startsWith("x-") && key !== "priority") problems.push(`${at}.networks.${network}.${key}: not supported (every service joins its environment's one network; aliases are kept)`);
    }
  }
  return aliases;
}
