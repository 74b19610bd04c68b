// HTTPS requests as a visitor's browser sends them to a demo host through nginx: SNI and Host name the demo, the
// connection goes to 127.0.0.1, the given root is the one trusted; the answer says which certificate was served.
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { execa } from "execa";
import type { TlsService } from "../../src/app/tls.js";
import type { TlsReport } from "../../src/tls/tls-status.js";

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The served certificate's SHA-256 fingerprint and end. */
  fingerprint: string;
  notAfter: string;
  /** "DNS:a, DNS:b" as the certificate names them. */
  altNames: string;
}

/** One request on a new connection (a new handshake each time: a renewal shows at the next request). */
export function httpsGet(port: number, host: string, ca: string, requestPath = "/"): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, servername: host, path: requestPath, headers: { host: `${host}:${port}` }, ca, agent: false, timeout: 10_000 }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), fingerprint: peer.fingerprint256, notAfter: peer.valid_to, altNames: peer.subjectaltname ?? "" }));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** curl as a person runs it: `--resolve` the demo host to 127.0.0.1, the root trusted with --cacert; HTTP version and status. */
export async function curlHttps(port: number, host: string, caFile: string, requestPath = "/"): Promise<{ httpVersion: string; status: number; output: string }> {
  const result = await execa("curl", ["-sS", "--http2", "--cacert", caFile, "--resolve", `${host}:${port}:127.0.0.1`, "-o", "/dev/null", "-w", "%{http_version} %{http_code}", `https://${host}:${port}${requestPath}`], { reject: false, all: true });
  const [httpVersion, status] = String(result.stdout).trim().split(" ");
  return { httpVersion: httpVersion ?? "", status: Number(status), output: String(result.all ?? "") };
}

/** Resolves with the first report (now or after a change) that passes `check`. */
export function untilTls(tls: TlsService, what: string, check: (report: TlsReport) => boolean, timeoutMs = 60_000): Promise<TlsReport> {
  if (check(tls.report())) return Promise.resolve(tls.report());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      tls.events.off("changed", listener);
      reject(new Error(`waited ${timeoutMs} ms for ${what}; last report: ${JSON.stringify(tls.report())}`));
    }, timeoutMs);
    const listener = (report: TlsReport) => {
      if (!check(report)) return;
      clearTimeout(timer);
      tls.events.off("changed", listener);
      resolve(report);
    };
    tls.events.on("changed", listener);
  });
}

/** An Output that keeps the lines a command printed. */
export function capturedLines() {
  const out: string[] = [];
  return { out, output: { line: (text: string) => void out.push(text) } as never };
}
