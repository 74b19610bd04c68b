// Compose mounts as an environment runs them: named and anonymous volumes of its own, tmpfs, and files of the project copied in.
import path from "node:path";
import type { MountSpec } from "../core/environments/environment-spec.js";
import { parseByteSize } from "./values.js";

type Doc = Record<string, unknown>;

/** What a service's mounts are checked against: the file's folder, the declared volumes, secrets and configs. */
export interface MountContext {
  fileDir: string;
  volumes: Set<string>;
  files: Map<string, { kind: "secret" | "config"; source: string }>;
}

/** A path the file names, as a path inside the project; undefined when it leaves the project. */
export function insideProject(fileDir: string, relative: string): string | undefined {
  if (path.posix.isAbsolute(relative) || relative.startsWith("~")) return undefined;
  const joined = path.posix.normalize(path.posix.join(fileDir, relative));
  return joined === ".." || joined.startsWith("../") ? undefined : joined.replace(/\/$/, "") || ".";
}

export function checkTopVolumes(value: unknown, problems: string[]): Set<string> {
  const names = new Set<string>();
  for (const [name, definition] of Object.entries((value ?? {}) as Record<string, Doc | null>)) {
    names.add(name);
    const volume = definition ?? {};
    if (volume.external) problems.push(`volumes.${name}.external: refused: an environment owns its volumes (an external one would be shared between demos and outlive them)`);
    if (typeof volume.name === "string") problems.push(`volumes.${name}.name: refused: demo-launcher names volumes per environment`);
    if (volume.driver !== undefined && volume.driver !== "local") problems.push(`volumes.${name}.driver: ${JSON.stringify(volume.driver)} is not supported (allowed: local)`);
    if (volume.driver_opts !== undefined) problems.push(`volumes.${name}.driver_opts: refused: a local volume with options can bind a host path`);
  }
  return names;
}

/** Top-level secrets and configs: files inside the project (or inline content for configs), never external. */
export function topFiles(document: Doc, options: { fileDir: string }, problems: string[]): Map<string, { kind: "secret" | "config"; source: string }> {
  const out = new Map<string, { kind: "secret" | "config"; source: string }>();
  for (const kind of ["secrets", "configs"] as const) {
    for (const [name, definition] of Object.entries((document[kind] ?? {}) as Record<string, Doc>)) {
      const at = `${kind}.${name}`;
      if (definition.external) problems.push(`${at}.external: refused: only file-based ${kind} are supported`);
      else if (typeof definition.file === "string") {
        const inside = insideProject(options.fileDir, definition.file);
        if (!inside) problems.push(`${at}.file: ${JSON.stringify(definition.file)}: refused: outside the project's folder`);
        else out.set(`${kind}:${name}`, { kind: kind === "secrets" ? "secret" : "config", source: inside });
      } else problems.push(`${at}: only file-based ${kind} are supported (file: ./path)`);
    }
  }
  return out;
}

const DOCKER_SOCKET = /(^|\/)docker\.sock$|^\/var\/run\/docker|^\/run\/docker/;

export function volumeMounts(value: unknown, at: string, context: MountContext, problems: string[]): MountSpec[] {
  const mounts: MountSpec[] = [];
  for (const [index, entry] of ((value as unknown[]) ?? []).entries()) {
    const where = `${at}.volumes[${index}]`;
    let type: string, source: string | undefined, target: string | undefined, readOnly = false;
    if (typeof entry === "string") {
      const parts = entry.split(":");
      const last = parts.at(-1)!;
      const hasMode = parts.length >= 3 || (parts.length === 2 && /^(ro|rw|z|Z|cached|delegated|consistent|nocopy)(,.*)?$/.test(last) && !last.startsWith("/"));
      const modes = hasMode ? parts.pop()!.split(",") : [];
      readOnly = modes.includes("ro");
      if (parts.length === 1) [target] = parts;
      else [source, target] = [parts.slice(0, -1).join(":"), parts.at(-1)];
      type = source === undefined ? "volume" : /^[./~]/.test(source) ? "bind" : "volume";
    } else {
      const long = entry as Doc;
      type = String(long.type);
      source = typeof long.source === "string" ? long.source : undefined;
      target = typeof long.target === "string" ? long.target : undefined;
      readOnly = long.read_only === true;
      if (type === "tmpfs") {
        const size = parseByteSize((long.tmpfs as Doc | undefined)?.size);
        mounts.push({ kind: "tmpfs", target: target!, ...(size !== undefined ? { sizeBytes: size } : {}) });
        continue;
      }
    }
    if (!target) {
      problems.push(`${where}: names no path inside the container`);
      continue;
    }
    if (type === "bind") {
      if (source && DOCKER_SOCKET.test(source)) problems.push(`${where}: refused: the Docker socket is never given to a demo (it would own the host)`);
      else {
        const inside = source ? insideProject(context.fileDir, source) : undefined;
        if (!inside) problems.push(`${where}: refused: ${JSON.stringify(source)} is outside the project's folder (only files of the repository or config folder can be mounted, and they are copied in)`);
        else mounts.push({ kind: "copy", source: inside, target, readOnly });
      }
    } else if (type === "volume") {
      // An anonymous volume (a dependency folder kept apart from copied sources, say) is the environment's too.
      if (source === undefined) mounts.push({ kind: "volume", volume: anonymousVolume(at, target), target, readOnly });
      else if (!context.volumes.has(source)) problems.push(`${where}: the volume ${source} is not declared under the top-level volumes`);
      else mounts.push({ kind: "volume", volume: source, target, readOnly });
    } else problems.push(`${where}: a ${type} mount is not supported (allowed: volume, bind inside the project, tmpfs)`);
  }
  return mounts;
}

/** A stable name for an anonymous volume: its service and path, so a replacement finds the same one. */
function anonymousVolume(at: string, target: string): string {
  return `${at.slice("services.".length)}${target}`.replace(/[^a-zA-Z0-9_.-]+/g, "_");
}

export function tmpfsMounts(value: unknown, at: string, problems: string[]): MountSpec[] {
  if (value === undefined) return [];
  const entries = Array.isArray(value) ? value.map(String) : [String(value)];
  return entries.flatMap((entry): MountSpec[] => {
    const [target, options = ""] = entry.split(":");
    if (!target?.startsWith("/")) {
      problems.push(`${at}.tmpfs: ${JSON.stringify(entry)} is not an absolute path`);
      return [];
    }
    const size = /(?:^|,)size=([^,]+)/.exec(options)?.[1];
    const bytes = size === undefined ? undefined : parseByteSize(size);
    return [{ kind: "tmpfs", target, ...(bytes !== undefined ? { sizeBytes: bytes } : {}) }];
  });
}

/** Secrets at /run/secrets/<name>, configs at /<name> (their usual places), read-only. */
export function fileMounts(service: Doc, at: string, context: MountContext, problems: string[]): MountSpec[] {
  const mounts: MountSpec[] = [];
  for (const kind of ["secrets", "configs"] as const) {
    for (const entry of (service[kind] as unknown[] | undefined) ?? []) {
      const long = (typeof entry === "string" ? { source: entry } : entry) as Doc;
      const name = String(long.source);
      const file = context.files.get(`${kind}:${name}`);
      if (!file) {
        problems.push(`${at}.${kind}: ${name} is not declared under the top-level ${kind} with a file`);
        continue;
      }
      const target = typeof long.target === "string" ? long.target : undefined;
      const where = kind === "secrets" ? (target?.startsWith("/") ? target : `/run/secrets/${target ?? name}`) : (target ?? `/${name}`);
      const mode = long.mode === undefined ? 0o444 : typeof long.mode === "string" ? parseInt(long.mode, 8) : Number(long.mode);
      mounts.push({ kind: "copy", source: file.source, target: where, readOnly: true, mode });
    }
  }
  return mounts;
}
