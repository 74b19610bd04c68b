// What every HTTP area shares: the engine, the pages, how demos look as JSON, and who may do what.
import type { EndedDemoView } from "../api/views.js";
import type { FastifyRequest } from "fastify";
import type { Config } from "../config/load.js";
import type { DemoService } from "../core/services.js";
import { viewOf, type Demo } from "../core/model.js";
import { DEMO_ID_PATTERN, hostFor, idFromHost, normalizeHost } from "../core/routing/naming.js";
import type { EndedDemo } from "../core/runtime.js";
import type { Logger } from "../logger.js";
import { clientAddress, type VisitorKeys } from "./client.js";
import type { ConsoleAuth } from "./console/auth.js";
import type { Pages } from "./pages.js";
import { ProblemError } from "./problem.js";
import { ownHostOwners } from "../config/own-hosts.js";

export interface ServerDeps {
  config: Config;
  engine: DemoService;
  logger: Logger;
  templatesDir: string;
  /** Preview builds, when preview sources are configured. */
  builds?: import("../builds/build-runner.js").BuildRunner;
  /** The forges' webhooks (GitHub's, GitLab's), each where configured. */
  forges?: Partial<Record<import("../core/forges/forge-intent.js").Forge, import("../forges/hooks.js").ForgeHooks>>;
  /** Screenshots of changes' previews, where a source takes them. */
  screens?: import("../screenshots/preview-screens.js").PreviewScreens;
  /** Their deliveries, both forges' (the console and /api/deliveries list them). */
  deliveries?: import("../forges/deliveries.js").DeliveryLog;
  /** Engine events reach the console's live view through this (the controller adds the sink to its list). */
  engineEvents?: { add(sink: import("../core/events.js").EventSink): void };
  /** Prometheus metrics for GET /metrics. */
  metrics?: import("../metrics/metrics.js").ControllerMetrics;
  /** When each shared demo is reset next (its cron schedule). */
  schedules?: { nextResetAt(name: string): number | undefined };
  /** HTTP-01 answers and the `ask` check for demos' own names (tls:). */
  acme?: import("./routes/acme-challenges.js").AcmeAnswers;
  /** Who may open gated demos (access:); without it every demo is public. */
  access?: import("../core/access/access-desk.js").AccessDesk;
  /** Extra facts for /api/status (the watcher's last outcome). */
  status: () => Promise<Record<string, unknown>>;
}

export function publicOrigin(config: Config, host: string): string {
  // Over HTTPS the visitor's port is nginx's TLS one (up --tls: 8443; production's site file: 443).
  const port = config.publicPort ?? (config.publicScheme === "https" ? (config.nginx.listenTls?.port ?? 443) : config.nginx.listen.port);
  const defaultPort = config.publicScheme === "https" ? 443 : 80;
  return `${config.publicScheme}://${host}${port === defaultPort ? "" : `:${port}`}`;
}

export const NO_STORE = "no-store";

export interface HttpContext extends ServerDeps {
  pages: Pages;
  /** The demo a name of its own (shared.<name>.hosts, previews.<source>.hosts) belongs to. */
  ownHostDemo(host: string | undefined): string | undefined;
  scripts: { launch: string; status: string; banner: string; preview: string };
  apexUrl: string;
  urlOf(demo: Demo): string;
  /** Where a launch sends its visitor: the demo's address, or (access: owner) a one-time link that makes the browser its owner. */
  entryUrlOf(demo: Demo): string;
  viewFor(demo: Demo, options?: { withInstances?: boolean }): ReturnType<typeof viewOf>;
  endedView(ended: EndedDemo): EndedDemoView;
  wantsHtml(request: FastifyRequest): boolean;
  /** The admin token, this machine, or a console session (with its CSRF token for changes). */
  auth: ConsoleAuth;
  isAdmin(request: FastifyRequest): boolean;
  requireAdmin(request: FastifyRequest): void;
  originAllowed(origin: string): boolean;
  /** Launches change state: only by POST, and a browser's Origin must be one we trust (CSRF). */
  assertSameOrigin(request: FastifyRequest): void;
  /** The keyed hash of the asking visitor and their network (see VisitorKeys). */
  visitorKey(request: FastifyRequest): string;
  parseId(raw: string): string;
}

export function createHttpContext(deps: ServerDeps, pages: Pages, scripts: HttpContext["scripts"], auth: ConsoleAuth, visitorKeys: VisitorKeys): HttpContext {
  const { config, engine } = deps;
  const apexUrl = publicOrigin(config, config.domain);
  const urlOf = (demo: Demo) => `${publicOrigin(config, demo.host)}/`;

  /**
   * Our own pages (the apex, a demo's relaunch button, also on its "ended" page, a preview's build pages) and the operator's allowed sites.
   * A name under the domain that was never a demo (or one forgotten long ago) is nobody's page: refused like any other site.
   */
  const originAllowed = (origin: string): boolean => {
    if (origin === apexUrl || config.allowedOrigins.includes(origin)) return true;
    try {
      const url = new URL(origin);
      if (url.origin !== publicOrigin(config, url.hostname)) return false;
      const id = idFromHost(url.hostname, config.domain);
      if (id === undefined) return false;
      // A preview host with a build but no demo (a failed build's page, with its rebuild button) is ours too.
      return engine.get(id) !== undefined || engine.getEnded(id) !== undefined || deps.builds?.latestFor(id) !== undefined;
    } catch {
      return false;
    }
  };

  const ownHosts = ownHostOwners(config);
  return {
    ...deps,
    pages,
    ownHostDemo: (host) => (host ? ownHosts.get(normalizeHost(host)) : undefined),
    scripts,
    apexUrl,
    urlOf,
    entryUrlOf: urlOf,
    viewFor: (demo, options) => {
      const view = viewOf(demo, urlOf(demo), engine.now(), engine.queueInfo(demo.id), options);
      // A shared demo has no time box: what the operator plans for it is its next reset.
      const nextResetAt = demo.kind === "shared" ? deps.schedules?.nextResetAt(demo.id) : undefined;
      return nextResetAt !== undefined ? { ...view, nextResetAt: new Date(nextResetAt).toISOString() } : view;
    },
    endedView(ended) {
      const host = hostFor(ended.id, config.domain);
      return { id: ended.id, app: ended.app, host, url: `${publicOrigin(config, host)}/`, status: ended.status, reason: ended.reason, endedAt: new Date(ended.endedAt).toISOString() };
    },
    wantsHtml: (request) => /text\/html/.test(String(request.headers.accept ?? "")),
    auth,
    isAdmin: (request) => auth.isAdmin(request),
    requireAdmin: (request) => auth.requireAdmin(request),
    originAllowed,
    assertSameOrigin(request) {
      const origin = request.headers.origin;
      if (origin === undefined || originAllowed(String(origin))) return;
      const allowed = config.allowedOrigins.length ? `${apexUrl}, its demos and ${config.allowedOrigins.join(", ")}` : `${apexUrl} and its demos`;
      throw new ProblemError("forbidden", `Launches are accepted only from ${allowed}, not from ${String(origin).slice(0, 100)}.`);
    },
    visitorKey: (request) => visitorKeys.of(clientAddress(request, config.trustedProxies)),
    parseId(raw) {
      if (!DEMO_ID_PATTERN.test(raw)) throw new ProblemError("bad-request", `${JSON.stringify(raw.slice(0, 70))} is not a demo id (lowercase letters, digits and inner hyphens).`);
      return raw;
    },
  };
}

/** The visitor a launch counts against; an operator launching on purpose (CLI, scripts) is held to no per-visitor limit. */
export function launchOwner(ctx: HttpContext, request: FastifyRequest): string | undefined {
  return ctx.isAdmin(request) ? undefined : ctx.visitorKey(request);
}
