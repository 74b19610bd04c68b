// Let's Encrypt's test server (Debian's pebble) for the ACME tests: on 127.0.0.1, its own HTTPS certificate made per
// run by openssl, validating DNS-01 against the DNS server the test names (a real BIND), gone with the test.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { freePort, waitFor } from "./stack.js";

export interface LocalPebble {
  directory: string;
  /** The CA of Pebble's own HTTPS listener (the controller's `directoryCa`). */
  listenerCa: string;
  /** The root that signs the certificates it issues (asked of its management API). */
  issuingRoot(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/**
 * `validitySeconds`: how long its certificates last (short ones make renewals come in a test's time). `httpPort`: where
 * it checks HTTP-01 answers (the plain port of the test's nginx).
 */
export async function startPebble(dnsServer: string, options: { validitySeconds?: number; httpPort?: number } = {}): Promise<LocalPebble> {
  if (!existsSync("/usr/bin/pebble")) throw new Error("The ACME tests need Pebble (/usr/bin/pebble); run scripts/ensure-host.sh --browser.");
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-pebble-"));
  const [port, management] = [await freePort(), await freePort()];
  const file = (name: string) => path.join(dir, name);
  // A CA and the listener's certificate for 127.0.0.1 (Pebble's own test certificate names localhost only).
  await execa("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=pebble listener CA", "-keyout", file("ca.key"), "-out", file("ca.pem")]);
  await execa("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", file("listener.key"), "-out", file("listener.csr")]);
  await writeFile(file("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  await execa("openssl", ["x509", "-req", "-in", file("listener.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", file("san.ext"), "-out", file("listener.pem")]);
  await writeFile(file("pebble.json"), JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${management}`, certificate: file("listener.pem"), privateKey: file("listener.key"), httpPort: options.httpPort ?? 5002, tlsPort: 5001, ocspResponderURL: "", externalAccountBindingRequired: false, ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}) } }));
  let output = "";
  // No random sleeps before validating, no random nonce refusals: a test waits on Pebble's answers, not its dice.
  const pebble: ChildProcess = spawn("/usr/bin/pebble", ["-config", file("pebble.json"), "-dnsserver", dnsServer], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" } });
  pebble.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  pebble.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => pebble.once("exit", () => resolve()));
  const listenerCa = await readFile(file("ca.pem"), "utf8");
  const directory = `https://127.0.0.1:${port}/dir`;
  try {
    await waitFor("Pebble's directory", async () => {
      if (pebble.exitCode !== null) throw new Error(`pebble exited: ${output.slice(-2000)}`);
      return (await get(directory, listenerCa).then((answer) => answer.status === 200, () => false)) || undefined;
    }, 30_000, 100);
  } catch (error) {
    pebble.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    directory,
    listenerCa,
    // The management API answers with the listener's certificate too.
    issuingRoot: async () => (await get(`https://127.0.0.1:${management}/roots/0`, listenerCa)).body,
    async stop() {
      pebble.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The config's `tls:` for a stack ordering from this Pebble by DNS-01 at this BIND (RFC 2136 with its TSIG key); the
 * stack writes `listenerCa` to `pebble-ca.pem` in its folder (beforeStart). `extra`: more keys under `acme:`.
 */
export function acmeTlsYaml(pebble: LocalPebble, bind: { port: number; tsig: { name: string; secret: string } }, options: { hsts?: string; acme?: string[] } = {}): string {
  return [
    "tls:",
    ...(options.hsts ? [`  hsts: ${options.hsts}`] : []),
    "  acme:",
    `    directory: ${pebble.directory}`,
    "    directoryCa: pebble-ca.pem",
    ...(options.acme ?? []).map((line) => `    ${line}`),
    `    dns: { provider: rfc2136, server: "127.0.0.1:${bind.port}", keyName: ${bind.tsig.name}, keySecret: "${bind.tsig.secret}" }`,
  ].join("\n");
}
