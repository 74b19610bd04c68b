// doctor's HTTPS line: the certificate the controller serves (from its status file), its end, and failing renewals.
import type { Config } from "../../config/load.js";
import { readTlsReport, type TlsReport } from "../../tls/tls-status.js";
import type { Check } from "./host.js";

/** The line for a report: a failure once the certificate ended, a warning while renewals fail or it nears its end. */
export function tlsCheckOf(report: TlsReport | undefined, now: number): Check {
  if (!report) return { name: "tls", ok: "not checked", detail: "the controller has not reported on its certificate yet (is it running?)" };
  const certificate = report.certificate;
  const failing = report.lastError ? `; renewal failing (${report.failures} in a row${report.nextRenewalAt ? `, next try ${report.nextRenewalAt}` : ""}): ${report.lastError.message}` : "";
  if (!certificate) return { name: "tls", ok: false, detail: `no certificate is installed${failing}` };
  if (Date.parse(certificate.notAfter) <= now) return { name: "tls", ok: false, detail: `the certificate ended at ${certificate.notAfter}: visitors see a browser warning${failing}` };
  if (certificate.placeholder) return { name: "tls", ok: "warn", detail: `a self-signed stand-in serves until the first order succeeds${failing}` };
  const facts = `${certificate.names.join(", ")} from ${certificate.issuer}, until ${certificate.notAfter}`;
  // A shared demo's own name whose order failed (its demo down, or the CA's refusal) is said too.
  const hosts = Object.entries(report.hosts ?? {}).filter(([, entry]) => entry.lastError).map(([host, entry]) => `; ${host}: ${entry.lastError!.message}`).join("");
  if (report.warning || failing || hosts) return { name: "tls", ok: "warn", detail: `${facts}${report.warning ? `; ${report.warning}` : ""}${failing}${hosts}` };
  return { name: "tls", ok: true, detail: `${facts}${report.nextRenewalAt ? `; next renewal ${report.nextRenewalAt}` : ""}` };
}

export async function tlsCheck(config: Config, now: number): Promise<Check | undefined> {
  if (!config.tls) return undefined;
  return tlsCheckOf(await readTlsReport(config.stateDir), now);
}
