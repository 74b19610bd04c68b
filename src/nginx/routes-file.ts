// The RoutesSink on disk: renders routes.conf into the config dir, atomically, only when it changes.
import path from "node:path";
import { readRoutesFile, type Route } from "../core/routes.js";
import type { RoutesSink } from "../core/runtime.js";
import type { Address } from "../config/schema.js";
import { RoutesRenderer } from "./render.js";
import { ROUTES_FILE_NAME } from "./watcher.js";
import { readIfExists, removeStaleTemps, writeIfChanged } from "../files/atomic.js";

export class RoutesFile implements RoutesSink {
  readonly file: string;

  constructor(configDir: string, private readonly controller: Address, private readonly renderer: RoutesRenderer = new RoutesRenderer()) {
    this.file = path.join(configDir, ROUTES_FILE_NAME);
  }

  async readCurrent(): Promise<{ generation: number; hosts: Set<string> }> {
    // Called once at start: a predecessor killed mid-write may have left a temp file.
    await removeStaleTemps(this.file);
    const text = await readIfExists(this.file);
    return text === undefined ? { generation: 0, hosts: new Set() } : readRoutesFile(text);
  }

  render(routes: Route[], generation: number): string {
    return this.renderer.render({ generation, controller: this.controller, routes });
  }

  write(routes: Route[], generation: number): Promise<boolean> {
    return writeIfChanged(this.file, this.render(routes, generation));
  }
}
