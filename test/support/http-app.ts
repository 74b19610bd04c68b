// The controller's HTTP layer over the engine on in-memory edges (the http tier): fastify.inject, no sockets, no
// Docker, no nginx, manual time. Requests "through nginx" come from loopback with the X-Real-IP nginx sets.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import os from "node:os";
import path from "node:path";
import { previewSpecs } from "../../src/app/previews.js";
import { parseConfigText, type Config } from "../../src/config/load.js";
import type { Scheduler } from "../../src/core/scheduler.js";
import { buildServer, type ServerDeps } from "../../src/http/server.js";
import { silentLogger } from "../../src/logger.js";
import { DEFAULT_TEMPLATES_DIR } from "../../src/nginx/render.js";
import { ALL_PORTS, setup } from "./engine-setup.js";

export const HELLO_YAML = "apps:\n  hello: { image: img, port: 8080, ttl: 10m, readiness: { path: /, timeout: 5s } }\n";

export interface HttpAppOptions {
  /** Files the config refers to (templates, a logo), written into the app's directory before the config is read. */
  files?: Record<string, string>;
  /** More of the server's parts (webhooks, builds), made with the engine and the config. */
  deps?: (made: { engine: ReturnType<typeof setup>["engine"]; config: Config; scheduler: Scheduler; runtime: ReturnType<typeof setup>["runtime"] }) => Partial<ServerDeps> | Promise<Partial<ServerDeps>>;
  /**
   * Real time instead of the manual clock, for parts that wait on real processes too (git in the preview pages):
   * moving a manual clock while git runs would fire time limits early. Tests still wait on events, never on time.
   */
  scheduler?: Scheduler;
}

/** A server for this config (YAML; `apps:` defaults to one app, hello, on the in-memory runtime's image). */
export async function httpApp(yaml: string, options: HttpAppOptions = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-http-"));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  const text = `domain: demo.localhost\nstateDir: state\n${yaml}\n${/^apps:/m.test(yaml) ? "" : HELLO_YAML}`;
  const config: Config = parseConfigText(text, path.join(dir, "config.yaml"), dir);
  // The engine's observers: a part made by `deps` (the metrics) joins them.
  const env = setup({ apps: config.apps, previews: previewSpecs(config), limits: config.limits, events: [], ...(options.scheduler ? { scheduler: options.scheduler } : {}) }, { answering: ALL_PORTS() });
  const scheduler = options.scheduler ?? env.scheduler;
  await env.engine.start();
  const server = await buildServer({ config, engine: env.engine, logger: silentLogger, templatesDir: DEFAULT_TEMPLATES_DIR, status: async () => ({}), ...(await options.deps?.({ engine: env.engine, config, scheduler, runtime: env.runtime })) });
  const inject = (request: InjectOptions): Promise<LightMyRequestResponse> => server.inject(request);
  return {
    ...env,
    dir,
    config,
    server,
    inject,
    /** A request as nginx passes it on: from loopback, the visitor's address in X-Real-IP. */
    viaNginx: (visitor: string, request: InjectOptions) => server.inject({ ...request, remoteAddress: "127.0.0.1", headers: { host: "demo.localhost", "x-real-ip": visitor, ...request.headers } }),
    /** Runs the engine's background work (launches, replacements) to its end on the manual clock. */
    settled: () => (options.scheduler ? env.engine.settled() : env.scheduler.runUntil(env.engine.settled())),
    async close() {
      await server.close();
      await env.engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type HttpApp = Awaited<ReturnType<typeof httpApp>>;

/** A cookie's value from Set-Cookie headers. */
export function cookieFrom(headers: LightMyRequestResponse["headers"], name: string): string {
  const line = [headers["set-cookie"] ?? []].flat().find((entry) => String(entry).startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(headers["set-cookie"])}`);
  return String(line).slice(name.length + 1).split(";")[0]!;
}
