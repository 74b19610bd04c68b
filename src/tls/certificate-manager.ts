// Keeps the served certificate current: orders one when none is installed and again at `renewBefore` its end,
// installs it (checked, atomically), retries a failed order with back-off while the old one keeps serving.
import { describeError } from "../core/errors.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { expiryWarning, nextOrderAt } from "../core/tls/renewal.js";
import type { Logger } from "../logger.js";
import type { CertificateInfo } from "./certificate-files.js";
import type { IssuedCertificate } from "./acme-issuer.js";

export interface CertificateManagerOptions {
  renewBeforeMs: number;
  /** One ACME order (orderCertificate with the configured directory, account and DNS provider). */
  order: () => Promise<IssuedCertificate>;
  /** Checks and installs an issued pair where nginx reads it (installCertificate). */
  install: (issued: IssuedCertificate) => Promise<CertificateInfo>;
  /** What is installed now (at start: a restart keeps the certificate it had). */
  installed: () => Promise<CertificateInfo | undefined>;
  scheduler: Scheduler;
  logger: Logger;
  /** After an order starts and after it ended (the status file, the metrics, the console). */
  onChange?: () => void;
}

/** What `tls status`, doctor, the console and the metrics show. */
export interface TlsStatus {
  certificate?: CertificateInfo;
  nextOrderAt?: number;
  ordering: boolean;
  failures: number;
  lastError?: { message: string; at: number };
  /** Near or past the end without a renewal. */
  warning?: string;
}

export class CertificateManager {
  private certificate: CertificateInfo | undefined;
  private failures = 0;
  private lastError: TlsStatus["lastError"];
  private next: number | undefined;
  private timer: Cancel | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: CertificateManagerOptions) {}

  async start(): Promise<void> {
    this.certificate = await this.options.installed().catch(() => undefined);
    this.schedule();
  }

  status(): TlsStatus {
    const now = this.options.scheduler.now();
    const warning = expiryWarning(now, this.certificate?.notAfter.getTime(), this.options.renewBeforeMs);
    return { ...(this.certificate ? { certificate: this.certificate } : {}), ...(this.next !== undefined ? { nextOrderAt: this.next } : {}), ordering: this.running !== undefined, failures: this.failures, ...(this.lastError ? { lastError: this.lastError } : {}), ...(warning ? { warning } : {}) };
  }

  /** Orders now (the CLI's `tls renew`, a test); resolves when that order ended, either way. */
  renewNow(): Promise<void> {
    this.timer?.();
    return this.orderOnce();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.();
    await this.running;
  }

  private schedule(): void {
    if (this.closed) return;
    const now = this.options.scheduler.now();
    this.next = nextOrderAt({ now, renewBeforeMs: this.options.renewBeforeMs, failures: this.failures, ...(this.certificate ? { notAfter: this.certificate.notAfter.getTime() } : {}) });
    this.timer?.();
    // A renewal months away is looked at daily: a timer of more than 24.8 days fires at once in Node.
    const wait = Math.min(this.next - now, 86_400_000);
    this.timer = this.options.scheduler.after(wait, () => {
      if (this.options.scheduler.now() >= this.next!) void this.orderOnce();
      else this.schedule();
    });
  }

  private orderOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.order().finally(() => {
        this.running = undefined;
        this.schedule();
        this.options.onChange?.();
      });
      this.options.onChange?.();
    }
    return this.running;
  }

  private async order(): Promise<void> {
    try {
      const issued = await this.options.order();
      this.certificate = await this.options.install(issued);
      this.failures = 0;
      this.lastError = undefined;
      this.options.logger.info(`tls: installed a certificate for ${this.certificate.names.join(", ")} until ${this.certificate.notAfter.toISOString()}`);
    } catch (error) {
      this.failures += 1;
      this.lastError = { message: describeError(error), at: this.options.scheduler.now() };
      // The certificate nginx has keeps serving; the next try comes with back-off.
      this.options.logger.warn(`tls: ordering a certificate failed (${this.failures} in a row; the installed one keeps serving): ${this.lastError.message}`);
    }
  }
}
