// routes.conf on disk: rendered into the config dir atomically, only when it changes, and read back at start.
import path from "node:path";
import type { PublishedRoutes, Route } from "../core/routing/routes.js";
import type { Address } from "../config/schema.js";
import { RoutesRenderer } from "./render.js";
import { readIfExists, removeStaleTemps, writeIfChanged } from "../files/atomic.js";

export const ROUTES_FILE_NAME = "routes.conf";

export class RoutesFile {
  readonly file: string;

  constructor(configDir: string, private readonly controller: Address, readonly renderer: RoutesRenderer = new RoutesRenderer()) {
    this.file = path.join(configDir, ROUTES_FILE_NAME);
  }

  async readCurrent(): Promise<PublishedRoutes> {
    // Called once at start: a predecessor killed mid-write may have left a temp file.
    await removeStaleTemps(this.file);
    const text = await readIfExists(this.file);
    return text === undefined ? { generation: 0, backends: new Map() } : parseRoutesFile(text);
  }

  render(routes: Route[], generation: number): string {
    return this.renderer.render({ generation, controller: this.controller, routes });
  }

  /** The text last written, as written. */
  private written: string | undefined;

  async write(routes: Route[], generation: number): Promise<boolean> {
    const text = this.render(routes, generation);
    const changed = await writeIfChanged(this.file, text);
    this.written = text;
    return changed;
  }

  /** Puts the text last written back when the disk no longer holds it; never renders anew (a new TLS pair is a publish's). */
  async restore(): Promise<boolean> {
    return this.written === undefined ? false : writeIfChanged(this.file, this.written);
  }
}

const ENDPOINT = String.raw`((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]+\]):\d{1,5}`;

/**
 * Reads the generation and each routed host's endpoints back from a routes file we wrote: a host maps to an
 * endpoint, or to an upstream block listing several.
 */
export function parseRoutesFile(text: string): PublishedRoutes & { hosts: Set<string> } {
  const generation = Number(/^# generation (\d+)/m.exec(text)?.[1] ?? 0);
  const upstreams = new Map<string, string[]>();
  for (const match of text.matchAll(/^upstream (demo_launcher_u_[a-z0-9_]+) \{([\s\S]*?)\n\}/gm)) {
    const servers = [...match[2]!.matchAll(new RegExp(String.raw`^\s+server (${ENDPOINT})`, "gm"))].map((server) => server[1]!);
    upstreams.set(match[1]!, servers);
  }
  const backends = new Map<string, string[]>();
  const mapBody = /map \$host \$demo_launcher_backend \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? "";
  for (const line of mapBody.split("\n")) {
    const match = new RegExp(String.raw`^\s+([a-z0-9.-]+)\s+(${ENDPOINT}|demo_launcher_u_[a-z0-9_]+);`).exec(line);
    if (!match) continue;
    const target = match[2]!;
    backends.set(match[1]!, upstreams.get(target) ?? [target]);
  }
  return { generation, backends, hosts: new Set(backends.keys()) };
}
