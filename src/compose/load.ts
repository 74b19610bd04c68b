// Reads a Compose file of a project (a config folder or a repository checkout): YAML, .env, interpolation, the spec's schema, extends, env_file, then our subset.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import type { EnvironmentSpec, MountSpec, RoutedService } from "../core/environments/environment-spec.js";
import { DotenvError, parseDotenv } from "./dotenv.js";
import { InterpolationError, interpolateTree, type VariableLookup } from "./interpolate.js";
import { specProblems } from "./spec-schema.js";
import { insideProject } from "./mounts.js";
import { toEnvironment } from "./subset.js";

/** The files of a project, by path relative to its root (a folder on disk; a map in the pure tests). */
export interface ProjectFiles {
  /** Where the files are, for messages ("the config's folder", a repository checkout's path). */
  describe: string;
  read(relative: string): Promise<string | undefined>;
  exists(relative: string): Promise<boolean>;
}

/** A project folder on this machine. */
export function folderFiles(root: string): ProjectFiles {
  return {
    describe: root,
    read: (relative) => readFile(path.join(root, relative), "utf8").catch(() => undefined),
    exists: async (relative) => (await stat(path.join(root, relative)).catch(() => undefined)) !== undefined,
  };
}

export interface ComposeRequest {
  /** The project's files: the config's folder, or a repository checkout. */
  files: ProjectFiles;
  /** The Compose file, relative to the root. */
  file: string;
  /** Our values (DEMO_URL, DEMO_ID, …) and the config's env: they win over the .env beside the file. */
  variables: Record<string, string>;
  capabilities: readonly string[];
  profiles?: readonly string[];
  routes?: RoutedService[];
  platform?: string;
}

export type ComposeReading =
  | { ok: true; environment: EnvironmentSpec; warnings: string[]; unset: string[] }
  | { ok: false; problems: string[] };

type Doc = Record<string, unknown>;

/** Reads and checks one Compose file; never throws for what the file says, only reports it. */
export async function readCompose(request: ComposeRequest): Promise<ComposeReading> {
  const fileDir = path.posix.dirname(request.file.split(path.sep).join("/"));
  if (!insideProject(".", request.file)) return { ok: false, problems: [`compose: ${JSON.stringify(request.file)} is outside the project's folder`] };
  const text = await request.files.read(request.file);
  if (text === undefined) return { ok: false, problems: [`compose: ${request.file} does not exist in ${request.files.describe}`] };
  let dotenv: Record<string, string> = {};
  try {
    const envText = await request.files.read(path.posix.join(fileDir, ".env"));
    if (envText !== undefined) dotenv = parseDotenv(envText, path.posix.join(fileDir, ".env"), (name) => request.variables[name]);
  } catch (error) {
    if (error instanceof DotenvError || error instanceof InterpolationError) return { ok: false, problems: [error.message] };
    throw error;
  }
  const lookup: VariableLookup = (name) => (Object.hasOwn(request.variables, name) ? request.variables[name] : Object.hasOwn(dotenv, name) ? dotenv[name] : undefined);
  const parsed = parseYaml(text, request.file);
  if ("problems" in parsed) return { ok: false, problems: parsed.problems };
  let document: Doc;
  let unset: string[];
  try {
    const interpolated = interpolateTree(parsed.document, lookup);
    document = interpolated.value as Doc;
    unset = interpolated.unset;
  } catch (error) {
    if (error instanceof InterpolationError) return { ok: false, problems: [`${request.file}: ${error.message}`] };
    throw error;
  }
  const spec = specProblems(document);
  if (spec.length > 0) return { ok: false, problems: spec.map((line) => `${request.file}: ${line}`) };
  const extended = await resolveExtends(document, request, fileDir, lookup);
  if (extended.length > 0) return { ok: false, problems: extended.map((line) => `${request.file}: ${line}`) };
  const envFiles = await readEnvFiles(document, request.files, fileDir, lookup);
  if ("problems" in envFiles) return { ok: false, problems: envFiles.problems.map((line) => `${request.file}: ${line}`) };
  const result = toEnvironment(document, {
    fileDir,
    capabilities: request.capabilities,
    profiles: request.profiles ?? [],
    ...(request.routes ? { routes: request.routes } : {}),
    lookup,
    envFiles: envFiles.values,
    ...(request.platform ? { platform: request.platform } : {}),
  });
  if (!result.ok) return { ok: false, problems: result.problems.map((line) => `${request.file}: ${line}`) };
  const missing = await missingCopies(result.environment, request.files);
  const missingFiles = missing.filter((mount) => mount.mode !== undefined);
  if (missingFiles.length > 0) return { ok: false, problems: missingFiles.map((mount) => `${request.file}: ${mount.source} (for ${mount.target}) does not exist in the project`) };
  const warnings = [...result.warnings, ...missing.map((mount) => `${mount.source} does not exist in the project: ${mount.target} starts as an empty folder`)];
  if (unset.length > 0) warnings.push(`${unset.join(", ")} ${unset.length === 1 ? "is" : "are"} not set: an empty string is used, as Compose does`);
  return { ok: true, environment: result.environment, warnings, unset };
}

/** YAML with anchors and merge keys (Compose files use `<<: *defaults`), duplicate keys refused, errors with their line. */
export function parseYaml(text: string, file: string): { document: Doc } | { problems: string[] } {
  const parsed = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (parsed.errors.length > 0) return { problems: parsed.errors.map((error) => `${file}, line ${error.linePos?.[0]?.line ?? "?"}: ${error.message.split("\n")[0]}`) };
  const document = parsed.toJS({ maxAliasCount: 1000 }) as unknown;
  if (document === null || typeof document !== "object" || Array.isArray(document)) return { problems: [`${file}: must be a mapping with a services: key`] };
  return { document: document as Doc };
}

/**
 * `extends`: a service of this file or of another file inside the project, merged as Compose merges (mappings key by
 * key, command/entrypoint/healthcheck replaced, lists appended). From outside the project: refused.
 */
async function resolveExtends(document: Doc, request: ComposeRequest, fileDir: string, lookup: VariableLookup, depth = 0): Promise<string[]> {
  const problems: string[] = [];
  const services = (document.services ?? {}) as Record<string, Doc>;
  const otherFiles = new Map<string, Doc>();
  const resolving = new Set<string>();
  const resolve = async (name: string): Promise<Doc | undefined> => {
    const service = services[name];
    if (!service?.extends) return service;
    if (resolving.has(name)) {
      problems.push(`services.${name}.extends: goes round in a circle`);
      return undefined;
    }
    resolving.add(name);
    const from = (typeof service.extends === "string" ? { service: service.extends } : service.extends) as { service: string; file?: string };
    let base: Doc | undefined;
    if (from.file === undefined) base = await resolve(from.service);
    else {
      const inside = insideProject(fileDir, from.file);
      if (!inside) {
        problems.push(`services.${name}.extends.file: ${JSON.stringify(from.file)}: refused: outside the project's folder`);
        return undefined;
      }
      let other = otherFiles.get(inside);
      if (!other) {
        const text = await request.files.read(inside);
        if (text === undefined || depth > 5) {
          problems.push(`services.${name}.extends.file: ${inside} ${text === undefined ? "does not exist in the project" : "extends too deeply"}`);
          return undefined;
        }
        const parsed = parseYaml(text, inside);
        if ("problems" in parsed) {
          problems.push(...parsed.problems);
          return undefined;
        }
        other = interpolateTree(parsed.document, lookup).value as Doc;
        problems.push(...(await resolveExtends(other, request, path.posix.dirname(inside), lookup, depth + 1)));
        otherFiles.set(inside, other);
      }
      base = ((other.services ?? {}) as Record<string, Doc>)[from.service];
    }
    if (!base) {
      problems.push(`services.${name}.extends: there is no service ${from.service}${from.file ? ` in ${from.file}` : ""}`);
      return undefined;
    }
    const { extends: _, ...own } = service;
    const merged = mergeService(base, own);
    services[name] = merged;
    resolving.delete(name);
    return merged;
  };
  for (const name of Object.keys(services)) await resolve(name);
  return problems;
}

const REPLACED = new Set(["command", "entrypoint", "healthcheck", "image", "build"]);

function mergeService(base: Doc, own: Doc): Doc {
  const out: Doc = { ...base };
  for (const [key, value] of Object.entries(own)) {
    const before = out[key];
    if (REPLACED.has(key) || before === undefined) out[key] = value;
    else if (Array.isArray(before) && Array.isArray(value)) out[key] = [...new Set([...before, ...value].map((item) => JSON.stringify(item)))].map((item) => JSON.parse(item) as unknown);
    else if (isMapping(before) && isMapping(value)) out[key] = mergeService(before, value);
    else out[key] = value;
  }
  return out;
}

function isMapping(value: unknown): value is Doc {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function readEnvFiles(document: Doc, files: ProjectFiles, fileDir: string, lookup: VariableLookup): Promise<{ values: Record<string, Record<string, string>> } | { problems: string[] }> {
  const problems: string[] = [];
  const values: Record<string, Record<string, string>> = {};
  for (const [name, service] of Object.entries((document.services ?? {}) as Record<string, Doc>)) {
    const entries = service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file];
    const merged: Record<string, string> = {};
    for (const entry of entries) {
      const long = (typeof entry === "string" ? { path: entry } : entry) as { path: string; required?: boolean };
      const inside = insideProject(fileDir, long.path);
      if (!inside) {
        problems.push(`services.${name}.env_file: ${JSON.stringify(long.path)}: refused: outside the project's folder`);
        continue;
      }
      const text = await files.read(inside);
      if (text === undefined) {
        if (long.required !== false) problems.push(`services.${name}.env_file: ${inside} does not exist in the project (mark it required: false if it may be absent)`);
        continue;
      }
      try {
        Object.assign(merged, parseDotenv(text, inside, lookup));
      } catch (error) {
        if (error instanceof DotenvError || error instanceof InterpolationError) problems.push(`services.${name}.env_file: ${error.message}`);
        else throw error;
      }
    }
    values[name] = merged;
  }
  return problems.length > 0 ? { problems } : { values };
}

/** Copied paths that are not in the project (Compose creates a missing bind source as an empty folder). */
async function missingCopies(environment: EnvironmentSpec, files: ProjectFiles): Promise<Array<Extract<MountSpec, { kind: "copy" }>>> {
  const copies = new Map(environment.services.flatMap((service) => service.mounts.flatMap((mount) => (mount.kind === "copy" ? [[mount.source, mount] as const] : []))));
  const missing: Array<Extract<MountSpec, { kind: "copy" }>> = [];
  for (const [source, mount] of copies) if (!(await files.exists(source))) missing.push(mount);
  return missing;
}
