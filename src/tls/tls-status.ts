// What the controller knows of HTTPS, kept in a small file beside its state so `tls status` and doctor can say it
// with or without a running controller: the certificate served, the next renewal, the last error.
import path from "node:path";
import { readIfExists, writeAtomically } from "../files/atomic.js";

export const TLS_STATUS_FILE = "tls-status.json";

export interface TlsReport {
  mode: "acme" | "files" | "local";
  updatedAt: string;
  /** The certificate nginx is given; `placeholder`: the self-signed stand-in served until the first order. */
  certificate?: { names: string[]; issuer: string; notBefore: string; notAfter: string; placeholder?: boolean };
  /** When the next order is due (acme and local). */
  nextRenewalAt?: string;
  ordering?: boolean;
  /** Orders (or file reads) failed in a row since the last success. */
  failures: number;
  lastError?: { message: string; at: string };
  /** Said by doctor and the console: near or past the end without a renewal. */
  warning?: string;
}

export function tlsStatusFile(stateDir: string): string {
  return path.join(stateDir, TLS_STATUS_FILE);
}

export async function writeTlsReport(stateDir: string, report: TlsReport): Promise<void> {
  await writeAtomically(tlsStatusFile(stateDir), `${JSON.stringify(report, null, 2)}\n`);
}

export async function readTlsReport(stateDir: string): Promise<TlsReport | undefined> {
  const text = await readIfExists(tlsStatusFile(stateDir)).catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as TlsReport;
  } catch {
    return undefined;
  }
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
  return lines;
}
