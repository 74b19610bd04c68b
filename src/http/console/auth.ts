// Who may use the console and the admin API: the bearer token, this machine (no token set), or a console session with its CSRF token.
import type { FastifyRequest } from "fastify";
import type { Config } from "../../config/load.js";
import { normalizeHost } from "../../core/routing/naming.js";
import { isDirectLoopback, tokenMatches } from "../client.js";
import { publicOrigin } from "../context.js";
import { ProblemError } from "../problem.js";
import { readCookie, SESSION_COOKIE, type Session, type Signer } from "./session.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ConsoleAuth {
  /** The one host the console answers on through nginx: admin.host, or the apex. */
  readonly host: string;
  readonly origin: string;

  constructor(private readonly config: Config, readonly signer: Signer) {
    this.host = config.admin.host ?? config.domain;
    this.origin = publicOrigin(config, this.host);
  }

  /** The console's own host, or straight to the controller from this machine; never a demo's host. */
  onConsoleHost(request: FastifyRequest): boolean {
    return normalizeHost(String(request.headers.host ?? "")) === this.host || isDirectLoopback(request);
  }

  /** The origin a browser on the console shows in `Origin`: straight to the controller, that address itself. */
  expectedOrigin(request: FastifyRequest): string {
    return isDirectLoopback(request) ? `http://${String(request.headers.host ?? "")}` : this.origin;
  }

  /** A browser's request from elsewhere (a demo's page, another site) says so in Origin; curl and the CLI send none. */
  sameOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    return origin === undefined || origin === this.expectedOrigin(request);
  }

  session(request: FastifyRequest): Session | undefined {
    if (!this.onConsoleHost(request)) return undefined;
    return this.signer.session(readCookie(request.headers.cookie, SESSION_COOKIE));
  }

  private bearer(request: FastifyRequest): boolean {
    if (!this.config.adminToken) return false;
    const header = String(request.headers.authorization ?? "");
    return tokenMatches(header.startsWith("Bearer ") ? header.slice(7) : undefined, this.config.adminToken);
  }

  /** Without a token, a program on this machine is the operator; a browser page from another origin is not. */
  private localOperator(request: FastifyRequest): boolean {
    return !this.config.adminToken && isDirectLoopback(request) && (SAFE_METHODS.has(request.method) || this.sameOrigin(request));
  }

  private csrfHolds(request: FastifyRequest, session: Session): boolean {
    if (SAFE_METHODS.has(request.method)) return true;
    return this.sameOrigin(request) && this.signer.csrfMatches(session, request.headers["x-csrf-token"]);
  }

  isAdmin(request: FastifyRequest): boolean {
    if (this.bearer(request) || this.localOperator(request)) return true;
    const session = this.session(request);
    return session !== undefined && this.csrfHolds(request, session);
  }

  requireAdmin(request: FastifyRequest): void {
    if (this.bearer(request) || this.localOperator(request)) return;
    const session = this.session(request);
    if (session) {
      if (this.csrfHolds(request, session)) return;
      throw new ProblemError("forbidden", "This action needs the console's CSRF token (X-CSRF-Token) and must come from the console's own page.");
    }
    // One answer whether or not a token is configured: a stranger learns nothing about the set-up from it.
    throw new ProblemError("unauthorized", "This needs an admin token (`Authorization: Bearer <token>`) or a console session.");
  }
}
