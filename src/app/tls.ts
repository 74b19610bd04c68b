// HTTPS as the controller runs it (tls:): the pair nginx serves from the start (the last one served, the operator's
// files, the local CA's, or a self-signed stand-in until ACME's first order), kept current by renewals or file changes.
import { EventEmitter } from "node:events";
import { X509Certificate } from "node:crypto";
import path from "node:path";
import type { Config } from "../config/load.js";
import { describeError, SetupError } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";
import { expiryWarning } from "../core/tls/renewal.js";
import type { Logger } from "../logger.js";
import type { RoutesTls } from "../nginx/render.js";
import { readWatcherStatus } from "../nginx/watcher-status.js";
import { CertificateStore, covers, type InstalledPair } from "../tls/certificate-files.js";
import { CertificateManager } from "../tls/certificate-manager.js";
import { LocalCa, PLACEHOLDER_ISSUER, selfSignedPair } from "../tls/local-ca.js";
import { ServedPair, type PairPublisher } from "../tls/served-pair.js";
import { reportedCertificate, reportedError, tlsStatusFile, type TlsReport } from "../tls/tls-status.js";
import { serialWriter } from "../files/atomic.js";
import { acmeOrders } from "./tls-acme.js";
import { ownHostOwners } from "../config/own-hosts.js";
import { HostCertificates } from "./tls-hosts.js";
import { Http01Challenges } from "../tls/http01.js";
import type { AcmeAnswers } from "../http/routes/acme-challenges.js";
import { formatAddress } from "../nginx/render.js";
import { CertificateFilesWatch } from "../tls/files-watch.js";

/** The operator's own files get a warning this long before their end (nobody here renews them). */
const FILES_WARN_BEFORE_MS = 30 * 86_400_000;
/** The local CA's certificates: 90 days, renewed 30 days before their end. */
const LOCAL_DAYS = 90;
const LOCAL_RENEW_BEFORE_MS = 30 * 86_400_000;

export interface TlsService {
  /** What routes.conf names now. */
  routesTls(): RoutesTls | undefined;
  /** The routes publisher, once it exists: new pairs are served through it. */
  attach(publisher: PairPublisher): void;
  /** After the first routes were written: renewals and the file watch begin. */
  start(): Promise<void>;
  report(): TlsReport;
  /** Orders now (acme, local) or reads the files again; resolves when that ended, either way. */
  renewNow(): Promise<void>;
  /** Orders a demo's own name now; resolves when that ended, either way. */
  renewHost(host: string): Promise<void>;
  /** HTTP-01 answers and the `ask` check, for the HTTP server. */
  acme: AcmeAnswers;
  close(): Promise<void>;
  readonly events: EventEmitter<{ changed: [TlsReport] }>;
}

/** The names one wildcard serves: the apex (landing page, console) and every demo under it. */
export function tlsNames(domain: string): string[] {
  return [domain, `*.${domain}`];
}

function usable(pair: InstalledPair | undefined, names: readonly string[], now: number): pair is InstalledPair {
  if (!pair) return false;
  const { info } = pair;
  return info.notBefore.getTime() <= now && now < info.notAfter.getTime() && names.every((host) => info.names.some((name) => covers(name, host)));
}

function isPlaceholder(pair: InstalledPair | undefined): boolean {
  return Boolean(pair?.info.issuer.includes(PLACEHOLDER_ISSUER));
}

/** Whether a demo's own name (a shared demo's, a branch preview's) belongs to a demo that is live now, and a wait until it is. */
export interface LiveHosts {
  isLive(host: string): boolean;
  untilLive(host: string, signal: AbortSignal): Promise<boolean>;
}

/** `live`: certificates for demos' own names are ordered while their demo is live only; `ask` says so too. */
export async function prepareTls(config: Config, scheduler: Scheduler, logger: Logger, live: LiveHosts): Promise<TlsService | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  const challenges = new Http01Challenges();
  const customHosts = [...ownHostOwners(config).keys()];
  const names = tlsNames(config.domain);
  const store = new CertificateStore(config.nginx.configDir);
  // nginx's words for the routes file it refused last (the watcher's status): why a new pair was not served.
  const refusal = async () => (await readWatcherStatus(config.nginx.configDir))?.lastError?.message;
  const served = new ServedPair(store, refusal, logger);
  const hostOptions = { config, hosts: customHosts, mayIssue: (host: string) => live.isLive(host), untilLive: (host: string, signal: AbortSignal) => live.untilLive(host, signal), refusal, scheduler, logger };
  const now = () => new Date(scheduler.now());
  const events = new EventEmitter<{ changed: [TlsReport] }>();
  const mode: TlsReport["mode"] = tls.acme ? "acme" : tls.local ? "local" : "files";
  const previous = await store.current().catch(() => undefined);
  let manager: CertificateManager | undefined;
  let files: CertificateFilesWatch | undefined;
  let hosts: HostCertificates | undefined;

  const report = (): TlsReport => {
    const pair = served.current;
    const status: { nextOrderAt?: number; ordering?: boolean; failures: number; lastError?: { message: string; at: number } } | undefined = manager?.status() ?? files?.status();
    const info = pair?.info;
    const warning = isPlaceholder(pair) ? undefined : expiryWarning(scheduler.now(), info?.notAfter.getTime(), tls.acme?.renewBefore ?? FILES_WARN_BEFORE_MS);
    return {
      mode,
      updatedAt: now().toISOString(),
      ...(info ? { certificate: { ...reportedCertificate(info), ...(isPlaceholder(pair) ? { placeholder: true } : {}) } } : {}),
      ...(status?.nextOrderAt !== undefined ? { nextRenewalAt: new Date(status.nextOrderAt).toISOString() } : {}),
      ...(status?.ordering !== undefined ? { ordering: status.ordering } : {}),
      failures: status?.failures ?? 0,
      ...(status?.lastError ? { lastError: reportedError(status.lastError) } : {}),
      ...(warning ? { warning } : {}),
      ...(hosts && customHosts.length > 0 ? { hosts: hosts.report() } : {}),
    };
  };
  // In order, each with the report as it is at its turn: the newest state is the one left on disk.
  const writeReport = serialWriter(tlsStatusFile(config.stateDir), (error) => logger.warn(`tls: cannot write ${tlsStatusFile(config.stateDir)}: ${describeError(error)}`));
  const changed = () => {
    events.emit("changed", report());
    void writeReport(() => `${JSON.stringify(report(), null, 2)}\n`).catch(() => {});
  };
  const install = async (certificate: string, key: string) => {
    const pair = await store.add(certificate, key, names, now());
    await served.serve(pair);
    return pair.info;
  };

  if (tls.certificate && tls.key) {
    files = new CertificateFilesWatch({ certificate: tls.certificate, key: tls.key, install, scheduler, logger, onChange: changed });
    const first = await files.read().catch((error: Error) => error);
    if (first instanceof Error) {
      if (!usable(previous, names, scheduler.now())) throw new SetupError(`tls: the certificate files cannot be served: ${first.message}`, "fix tls.certificate and tls.key (a PEM chain and its key covering the domain and its wildcard)");
      files.failed(first);
      await served.begin(previous);
    } else await served.begin(await store.add(first.certificate, first.key, names, now()));
  } else if (tls.local) {
    const ca = await LocalCa.open(localCaDir(config), scheduler.now());
    const issue = async (forNames: string[]) => ({ ...(await ca.issue(forNames, LOCAL_DAYS, scheduler.now())), names: forNames });
    await served.begin(usable(previous, names, scheduler.now()) && previous.info.issuer === rootSubject(ca) ? previous : await store.add(...pairOf(await issue(names)), names, now()));
    manager = new CertificateManager({ renewBeforeMs: LOCAL_RENEW_BEFORE_MS, order: () => issue(names), install: (issued) => install(issued.certificate, issued.key), installed: async () => served.current?.info, scheduler, logger, onChange: changed });
    hosts = new HostCertificates({ ...hostOptions, renewBeforeMs: LOCAL_RENEW_BEFORE_MS, onChange: changed, order: (host) => issue([host]) });
  } else {
    const acme = tls.acme!;
    // nginx needs a pair to start: the last one served, or a stand-in until the first order (a week, never renewed).
    await served.begin(usable(previous, names, scheduler.now()) ? previous : await store.add(...pairOf(await selfSignedPair(names, 7, scheduler.now())), names, now()));
    const orders = await acmeOrders(config, acme, names, scheduler, challenges);
    hosts = new HostCertificates({ ...hostOptions, renewBeforeMs: acme.renewBefore, onChange: changed, order: (host) => orders.host(host) });
    manager = new CertificateManager({ renewBeforeMs: acme.renewBefore, order: () => orders.wildcard(), install: (issued) => install(issued.certificate, issued.key), installed: async () => (isPlaceholder(served.current) ? undefined : served.current?.info), scheduler, logger, onChange: changed });
  }

  await hosts?.load();
  const listen = listenersOf(config);

  return {
    routesTls: () => {
      const main = routesTlsOf(served.current, tls);
      if (!main || customHosts.length === 0) return main;
      // A name of its own is served with its pair, or the main one where that covers it (your own files may).
      const ownPair = (host: string) => hosts?.pairOf(host) ?? (served.current && !isPlaceholder(served.current) && served.current.info.names.some((name) => covers(name, host)) ? served.current : undefined);
      return { ...main, listen, hosts: customHosts.map((host) => ({ host, ...pairFiles(ownPair(host)) })) };
    },
    attach: (publisher) => {
      served.attach(publisher);
      hosts?.attach(publisher);
    },
    async start() {
      await manager?.start();
      await files?.start();
      await hosts?.start();
      changed();
    },
    report,
    renewNow: () => manager?.renewNow() ?? files!.reload(),
    renewHost: (host) => (hosts ? hosts.renewNow(host) : Promise.reject(new Error("names of their own get certificates with tls.acme or tls.local only"))),
    acme: { answer: (token) => challenges.answer(token), mayIssue: (host) => live.isLive(host) },
    async close() {
      await manager?.close();
      await files?.close();
      await hosts?.close();
    },
    events,
  };
}

/** What routes.conf says of a pair: its files, and HSTS when the config asks for it. */
export function routesTlsOf(pair: InstalledPair | undefined, tls: NonNullable<Config["tls"]>): RoutesTls | undefined {
  return pair ? { certificate: pair.certificate, key: pair.key, ...(tls.hsts ? { hstsSeconds: tls.hsts / 1000 } : {}) } : undefined;
}

/** Where nginx listens, for the servers of demos' own names: the private nginx's addresses, or production's 80 and 443. */
function listenersOf(config: Config): NonNullable<RoutesTls["listen"]> {
  const { listenTls } = config.nginx;
  if (!listenTls) return { plain: ["80", "[::]:80"], tls: ["443", "[::]:443"], redirectPort: config.publicPort && config.publicPort !== 443 ? `:${config.publicPort}` : "" };
  const port = config.publicPort ?? listenTls.port;
  return { plain: [formatAddress(config.nginx.listen)], tls: [formatAddress(listenTls)], redirectPort: port === 443 ? "" : `:${port}` };
}

/** Where `up --tls` keeps its CA: under the state dir, made once. */
export function localCaDir(config: Pick<Config, "stateDir">): string {
  return path.join(config.stateDir, "tls", "local-ca");
}

function pairFiles(pair: InstalledPair | undefined): { certificate?: string; key?: string } {
  return pair ? { certificate: pair.certificate, key: pair.key } : {};
}

function pairOf(pair: { certificate: string; key: string }): [string, string] {
  return [pair.certificate, pair.key];
}

/** The local CA's name as its certificates give their issuer: a pair from another CA (an old state dir) is not kept. */
function rootSubject(ca: LocalCa): string {
  return new X509Certificate(ca.rootPem).subject.replace(/\n/g, ", ");
}
