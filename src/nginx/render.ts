// Renders the nginx routes file from the Eta template (the operator's copy when there is one, else ours).
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Eta, type TemplateFunction } from "eta";
import { describeError } from "../core/errors.js";
import { assertRouteIsSafe, type Route } from "../core/routing/routes.js";
import type { Address } from "../config/schema.js";
import { silentLogger, type Logger } from "../logger.js";

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_TEMPLATES_DIR = path.join(PACKAGE_ROOT, "templates");
const ROUTES_TEMPLATE = "nginx/routes.conf.eta";
/** A path written into nginx syntax as it is: nothing that could end the directive or need quoting. */
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]+$/;

/** What routes.conf tells nginx of HTTPS: the installed pair's files, and how long browsers keep to HTTPS (HSTS). */
export interface RoutesTls {
  certificate: string;
  key: string;
  /** Strict-Transport-Security's max-age in seconds; none: no header. */
  hstsSeconds?: number;
  /**
   * Names of demos' own outside the domain (shared demos' `hosts`): each gets servers of its own here, since the site's
   * servers answer for the domain only. With a pair: HTTPS with it, plain HTTP redirected (ACME's checks excepted);
   * without one yet: plain HTTP serves the demo.
   */
  hosts?: Array<{ host: string; certificate?: string; key?: string }>;
  /** Where those servers listen: nginx's plain and TLS addresses (`80`, `[::]:443`, `127.0.0.1:8443`), and the port said in redirects. */
  listen?: { plain: string[]; tls: string[]; redirectPort: string };
}

export interface RoutesInput {
  generation: number;
  controller: Address;
  routes: Route[];
}

/** The upstream block of a host with several instances; route ids are checked to be safe in a name. */
export function upstreamName(route: Route): string {
  return `demo_launcher_u_${route.id.replace(/-/g, "_")}`;
}

export function formatAddress(address: Address): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const LISTEN = /^(\[[0-9a-f:]+\]:|(\d{1,3}\.){3}\d{1,3}:)?\d{1,5}$/;

/** The servers of demos' own names (RoutesTls.hosts), every value checked before it is written into nginx syntax. */
function customHostServers(hosts: NonNullable<RoutesTls["hosts"]>, listen: NonNullable<RoutesTls["listen"]>): string[] {
  for (const address of [...listen.plain, ...listen.tls]) if (!LISTEN.test(address)) throw new Error(`refusing the listen address ${JSON.stringify(address)}`);
  if (!/^(:\d{1,5})?$/.test(listen.redirectPort)) throw new Error(`refusing the redirect port ${JSON.stringify(listen.redirectPort)}`);
  const lines = ["", "# Demos' own names outside the domain, each with its own certificate (ordered by HTTP-01) once it has one."];
  for (const { host, certificate, key } of hosts) {
    if (!HOST.test(host)) throw new Error(`refusing to serve unsafe host ${JSON.stringify(host)}`);
    const pair = certificate && key ? { certificate, key } : undefined;
    for (const file of pair ? [pair.certificate, pair.key] : []) if (!SAFE_PATH.test(file)) throw new Error(`refusing the certificate path ${JSON.stringify(file)}: an absolute path of letters, digits, . _ - / only`);
    lines.push("server {", ...listen.plain.map((address) => `    listen ${address};`), `    server_name ${host};`, "    server_tokens off;", "    location ^~ /.well-known/acme-challenge/ {", "        proxy_pass http://demo_launcher_controller;", "        include demo-launcher/proxy.conf;", "    }");
    lines.push(...(pair ? ["    location / {", `        return 308 https://$host${listen.redirectPort}$request_uri;`, "    }"] : ["    include demo-launcher/locations.conf;"]), "}");
    if (!pair) continue;
    lines.push("server {", ...listen.tls.map((address) => `    listen ${address} ssl;`), `    server_name ${host};`, "    server_tokens off;", `    ssl_certificate ${pair.certificate};`, `    ssl_certificate_key ${pair.key};`, "    add_header Strict-Transport-Security $demo_launcher_hsts always;", "    include demo-launcher/locations.conf;", "}");
  }
  return lines;
}

/** The operator's routes template as last read: recompiled when the file changes, so a fix needs no restart. */
interface OperatorTemplate {
  mtimeMs: number;
  size: number;
  compiled?: TemplateFunction;
  /** Why it is not used (it failed to compile or render, or nginx refused what it made); cleared by an edit. */
  refused?: string;
}

export class RoutesRenderer {
  private readonly eta: Eta;
  private readonly operatorFile: string | undefined;
  private operator: OperatorTemplate | undefined;
  private readonly logger: Logger;

  private readonly seenLog: string | undefined;
  private logsSeen = false;
  private readonly tls: (() => RoutesTls | undefined) | undefined;

  /**
   * `seenLog`: where nginx logs requests to previews (one host per line) for the controller to read. `tls`: the pair
   * to serve now, asked at every render (a new pair is a new generation, tested and reloaded like a route).
   */
  constructor(templatesDir: string = DEFAULT_TEMPLATES_DIR, options: { operatorDir?: string; logger?: Logger; seenLog?: string; tls?: () => RoutesTls | undefined } = {}) {
    if (options.seenLog !== undefined && !SAFE_PATH.test(options.seenLog)) throw new Error(`refusing the log path ${JSON.stringify(options.seenLog)}: an absolute path of letters, digits, . _ - / only`);
    this.seenLog = options.seenLog;
    this.tls = options.tls;
    // nginx syntax must never be HTML-escaped; values are validated by assertRouteIsSafe instead.
    this.eta = new Eta({ views: templatesDir, autoEscape: false, cache: true, autoTrim: [false, "nl"] });
    this.operatorFile = options.operatorDir ? path.join(options.operatorDir, ROUTES_TEMPLATE) : undefined;
    this.logger = options.logger ?? silentLogger;
  }

  render(input: RoutesInput): string {
    input.routes.forEach(assertRouteIsSafe);
    const data = {
      generation: input.generation,
      controller: formatAddress(input.controller),
      seenLog: this.seenLog,
      // `backend` is what the host maps to: the one endpoint, or the upstream block of several (operator
      // templates written before instances existed keep working with it).
      routes: input.routes.map((route) => ({ ...route, backend: route.backends.length > 1 ? upstreamName(route) : route.backends[0] })),
      // nginx refuses to start when the map's hash cannot fit; grow it with the route count.
      mapHashMaxSize: Math.max(2048, 2 ** Math.ceil(Math.log2(input.routes.length * 2 + 1))),
    };
    // Added to whatever template made the routes (the operator's too): HTTPS is not theirs to forget.
    const text = this.renderWith(data) + this.tlsBlock();
    this.logsSeen = this.seenLog !== undefined && text.includes(`access_log ${this.seenLog} `);
    return text;
  }

  private tlsBlock(): string {
    const tls = this.tls?.();
    const lines = ["", "# Strict-Transport-Security for HTTPS answers (tls.hsts); no header over plain HTTP or while it is off.", "map $scheme $demo_launcher_hsts {", '    default "";'];
    if (tls?.hstsSeconds) lines.push(`    https "max-age=${Math.round(tls.hstsSeconds)}";`);
    lines.push("}");
    if (tls) {
      for (const file of [tls.certificate, tls.key]) if (!SAFE_PATH.test(file)) throw new Error(`refusing the certificate path ${JSON.stringify(file)}: an absolute path of letters, digits, . _ - / only`);
      lines.push("", "# HTTPS: the pair the controller installed, for every `listen ... ssl` server without one of its own. A new pair is", "# a new generation of this file, so nginx -t passes it before nginx serves it, and a refused one is never served.", `ssl_certificate ${tls.certificate};`, `ssl_certificate_key ${tls.key};`);
      if (tls.hosts?.length && tls.listen) lines.push(...customHostServers(tls.hosts, tls.listen));
    }
    return `${lines.join("\n")}\n`;
  }

  /** Whether the last file rendered has nginx log preview requests (an operator's template may not). */
  get writesSeenLog(): boolean {
    return this.logsSeen;
  }

  private renderWith(data: Record<string, unknown>): string {
    const operator = this.currentOperatorTemplate();
    if (operator?.compiled && !operator.refused) {
      try {
        return this.eta.render(operator.compiled, data);
      } catch (error) {
        this.refuse(operator, `it failed to render: ${describeError(error)}`);
      }
    }
    return this.eta.render(ROUTES_TEMPLATE, data);
  }

  /** True while the operator's template is the one in use (the controller asks when nginx refused a file). */
  usesOperatorTemplate(): boolean {
    const operator = this.currentOperatorTemplate();
    return Boolean(operator?.compiled && !operator.refused);
  }

  /** nginx refused what the operator's template made: use ours until the operator edits theirs. */
  refuseOperatorTemplate(reason: string): void {
    const operator = this.currentOperatorTemplate();
    if (operator && !operator.refused) this.refuse(operator, reason);
  }

  private refuse(operator: OperatorTemplate, reason: string): void {
    operator.refused = reason;
    this.logger.error(`the routes template ${this.operatorFile} is not used: ${reason}. The built-in template is used until the file changes.`);
  }

  private currentOperatorTemplate(): OperatorTemplate | undefined {
    if (!this.operatorFile) return undefined;
    let stat;
    try {
      stat = statSync(this.operatorFile);
    } catch {
      this.operator = undefined;
      return undefined;
    }
    if (this.operator && this.operator.mtimeMs === stat.mtimeMs && this.operator.size === stat.size) return this.operator;
    const operator: OperatorTemplate = { mtimeMs: stat.mtimeMs, size: stat.size };
    this.operator = operator;
    try {
      operator.compiled = this.eta.compile(readFileSync(this.operatorFile, "utf8"));
      this.logger.info(`using the operator's routes template ${this.operatorFile}`);
    } catch (error) {
      // Eta appends the whole generated function to its message: the operator needs the lines before it.
      const reason = describeError(error).split(/\n=+\n/)[0]!.split("\n").filter(Boolean).join(": ");
      this.refuse(operator, `it does not compile: ${reason}`);
    }
    return operator;
  }
}
