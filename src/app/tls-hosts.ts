// Certificates for demos' own names (shared.<name>.hosts, previews.<source>.hosts): one per name, ordered by HTTP-01
// (or from the local CA) once the name's demo is live and never for a name that is not (like Caddy's `ask`), renewed
// like the wildcard.
import path from "node:path";
import type { Config } from "../config/load.js";
import type { Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";
import { CertificateStore, type InstalledPair } from "../tls/certificate-files.js";
import { CertificateManager } from "../tls/certificate-manager.js";
import type { IssuedCertificate } from "../tls/acme-issuer.js";
import { ServedPair, type PairPublisher } from "../tls/served-pair.js";
import { reportedCertificate, reportedError, type TlsReport } from "../tls/tls-status.js";

export interface HostCertificatesOptions {
  config: Config;
  hosts: readonly string[];
  /** One order for one name (HTTP-01, or the local CA). */
  order: (host: string) => Promise<IssuedCertificate>;
  /** Whether the name belongs to a live demo now. */
  mayIssue: (host: string) => boolean;
  /** Resolves true once the name's demo is live (false when `signal` aborts first). */
  untilLive: (host: string, signal: AbortSignal) => Promise<boolean>;
  refusal: () => Promise<string | undefined>;
  renewBeforeMs: number;
  scheduler: Scheduler;
  logger: Logger;
  onChange: () => void;
}

interface HostEntry {
  store: CertificateStore;
  served: ServedPair;
  manager: CertificateManager;
  started: boolean;
}

export class HostCertificates {
  private readonly entries = new Map<string, HostEntry>();
  private readonly closing = new AbortController();

  constructor(private readonly options: HostCertificatesOptions) {
    const { config, scheduler, logger } = options;
    for (const host of options.hosts) {
      // A folder of pairs per name, beside the wildcard's: pruning one never touches another's.
      const store = new CertificateStore(config.nginx.configDir, path.join(config.nginx.configDir, "tls-hosts", host));
      const served = new ServedPair(store, options.refusal, logger);
      const manager = new CertificateManager({
        renewBeforeMs: options.renewBeforeMs,
        order: () => {
          if (!options.mayIssue(host)) return Promise.reject(new Error(`${host} is not a name of a live demo now: no certificate is ordered for it`));
          return options.order(host);
        },
        install: async (issued) => {
          const pair = await store.add(issued.certificate, issued.key, [host], new Date(scheduler.now()));
          await served.serve(pair);
          return pair.info;
        },
        installed: async () => served.current?.info,
        scheduler,
        logger,
        onChange: options.onChange,
      });
      this.entries.set(host, { store, served, manager, started: false });
    }
  }

  /** Each name's pair last served (a restart serves them from the first routes file on). */
  async load(): Promise<void> {
    for (const entry of this.entries.values()) {
      const pair = await entry.store.current().catch(() => undefined);
      if (pair && pair.info.notAfter.getTime() > this.options.scheduler.now()) await entry.served.begin(pair);
    }
  }

  attach(publisher: PairPublisher): void {
    for (const entry of this.entries.values()) entry.served.attach(publisher);
  }

  /** Starts the renewals of the names whose demo is live now; each other one's when its demo is. */
  async start(): Promise<void> {
    for (const host of this.entries.keys()) {
      if (this.options.mayIssue(host)) await this.startHost(host);
      else void this.options.untilLive(host, this.closing.signal).then((live) => (live ? this.startHost(host) : undefined));
    }
  }

  private async startHost(host: string): Promise<void> {
    const entry = this.entries.get(host);
    if (!entry || entry.started || !this.options.mayIssue(host)) return;
    entry.started = true;
    await entry.manager.start();
  }

  pairOf(host: string): InstalledPair | undefined {
    return this.entries.get(host)?.served.current;
  }

  /** Orders a name now (a test, the CLI); resolves when that ended. */
  renewNow(host: string): Promise<void> {
    const entry = this.entries.get(host);
    return entry ? entry.manager.renewNow() : Promise.reject(new Error(`${host} is not a demo's own name (shared.<name>.hosts, previews.<source>.hosts)`));
  }

  report(): NonNullable<TlsReport["hosts"]> {
    const hosts: NonNullable<TlsReport["hosts"]> = {};
    for (const [host, entry] of this.entries) {
      const status = entry.manager.status();
      const info = entry.served.current?.info;
      hosts[host] = {
        ...(info ? { certificate: reportedCertificate(info) } : {}),
        ...(entry.started && status.nextOrderAt !== undefined ? { nextRenewalAt: new Date(status.nextOrderAt).toISOString() } : {}),
        ...(entry.started ? {} : { waiting: "for its demo to be live" }),
        failures: status.failures,
        ...(status.lastError ? { lastError: reportedError(status.lastError) } : {}),
      };
    }
    return hosts;
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const entry of this.entries.values()) await entry.manager.close();
  }
}
