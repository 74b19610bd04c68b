// What the controller knows of HTTPS, kept in a small file beside its state so `tls status` and doctor can say it
// with or without a running controller: the certificate served, the next renewal, the last error.
import path from "node:path";
import { readJsonIfExists } from "../files/atomic.js";
import type { CertificateInfo } from "./certificate-files.js";

export const TLS_STATUS_FILE = "tls-status.json";

/** A certificate as the report gives it (times in ISO 8601). */
export interface ReportedCertificate {
  names: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
}

/** An order's last failure as the report gives it. */
export interface ReportedError {
  message: string;
  at: string;
}

export function reportedCertificate(info: CertificateInfo): ReportedCertificate {
  return { names: info.names, issuer: info.issuer, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() };
}

export function reportedError(error: { message: string; at: number }): ReportedError {
  return { message: error.message, at: new Date(error.at).toISOString() };
}

export interface TlsReport {
  mode: "acme" | "files" | "local";
  updatedAt: string;
  /** The certificate nginx is given; `placeholder`: the self-signed stand-in served until the first order. */
  certificate?: ReportedCertificate & { placeholder?: boolean };
  /** When the next order is due (acme and local). */
  nextRenewalAt?: string;
  ordering?: boolean;
  /** Orders (or file reads) failed in a row since the last success. */
  failures: number;
  lastError?: ReportedError;
  /** Said by doctor and the console: near or past the end without a renewal. */
  warning?: string;
  /** Demos' own names (HTTP-01): each one's certificate and renewals. */
  hosts?: Record<string, { certificate?: ReportedCertificate; nextRenewalAt?: string; waiting?: string; failures: number; lastError?: ReportedError }>;
}

export function tlsStatusFile(stateDir: string): string {
  return path.join(stateDir, TLS_STATUS_FILE);
}

export async function readTlsReport(stateDir: string): Promise<TlsReport | undefined> {
  return readJsonIfExists<TlsReport>(tlsStatusFile(stateDir));
}

/** The report in lines for people (`tls status`, doctor's detail). */
export function describeTlsReport(report: TlsReport, now: number): string[] {
  const lines: string[] = [`mode:          ${report.mode}`];
  const certificate = report.certificate;
  if (!certificate) lines.push("certificate:   none installed");
  else {
    const days = Math.floor((Date.parse(certificate.notAfter) - now) / 86_400_000);
    lines.push(`names:         ${certificate.names.join(", ")}`, `issuer:        ${certificate.issuer}${certificate.placeholder ? " (a self-signed stand-in until the first order succeeds)" : ""}`, `valid:         ${certificate.notBefore} to ${certificate.notAfter} (${days >= 0 ? `${days} day(s) left` : "ended"})`);
  }
  if (report.nextRenewalAt) lines.push(`next renewal:  ${report.nextRenewalAt}${report.ordering ? " (ordering now)" : ""}`);
  lines.push(`last error:    ${report.lastError ? `${report.lastError.at}: ${report.lastError.message} (${report.failures} failure(s) in a row)` : "none"}`);
  if (report.warning) lines.push(`warning:       ${report.warning}`);
  for (const [host, entry] of Object.entries(report.hosts ?? {})) {
    const served = entry.certificate ? `${entry.certificate.issuer}, until ${entry.certificate.notAfter}` : "no certificate yet";
    lines.push(`${`${host}:`.padEnd(15)}${served}${entry.waiting ? ` (waiting ${entry.waiting})` : entry.nextRenewalAt ? `; next renewal ${entry.nextRenewalAt}` : ""}${entry.lastError ? `; last error: ${entry.lastError.message}` : ""}`);
  }
  return lines;
}
