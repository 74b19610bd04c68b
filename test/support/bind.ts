// A real BIND (Debian's named) for the DNS-01 tests: one zone that takes RFC 2136 updates signed by a TSIG key,
// on 127.0.0.1 and a port of its own, in the foreground, gone with the test.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Resolver } from "node:dns/promises";
import os from "node:os";
import path from "node:path";
import { freePort, waitFor } from "./stack.js";

export interface LocalBind {
  /** 127.0.0.1:<port>, as a DNS server address. */
  server: string;
  port: number;
  zone: string;
  tsig: { name: string; algorithm: string; secret: string };
  stop(): Promise<void>;
}

/** `addressZones`: zones more whose every name is 127.0.0.1 (demos' own names, where an ACME server checks HTTP-01). */
export async function startBind(zone = "example.test", addressZones: string[] = []): Promise<LocalBind> {
  if (!(await import("node:fs")).existsSync("/usr/sbin/named")) throw new Error("The DNS-01 tests need BIND (/usr/sbin/named); run scripts/ensure-host.sh --browser.");
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-bind-"));
  const port = await freePort();
  const tsig = { name: "demo-launcher", algorithm: "hmac-sha256", secret: randomBytes(32).toString("base64") };
  await writeFile(path.join(dir, `${zone}.zone`), `$TTL 60\n@ IN SOA ns1.${zone}. hostmaster.${zone}. ( 1 60 60 600 60 )\n@ IN NS ns1.${zone}.\nns1 IN A 127.0.0.1\n`);
  for (const other of addressZones) await writeFile(path.join(dir, `${other}.zone`), `$TTL 60\n@ IN SOA ns1.${other}. hostmaster.${other}. ( 1 60 60 600 60 )\n@ IN NS ns1.${other}.\n@ IN A 127.0.0.1\n* IN A 127.0.0.1\n`);
  await writeFile(
    path.join(dir, "named.conf"),
    `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { any; };
};
controls { };
key "${tsig.name}" { algorithm ${tsig.algorithm}; secret "${tsig.secret}"; };
zone "${zone}" {
  type primary;
  file "${dir}/${zone}.zone";
  update-policy { grant ${tsig.name} zonesub TXT; };
};
${addressZones.map((other) => `zone "${other}" { type primary; file "${dir}/${other}.zone"; };\n`).join("")}`,
  );
  let output = "";
  const named: ChildProcess = spawn("/usr/sbin/named", ["-g", "-c", path.join(dir, "named.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  named.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  named.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => named.once("exit", () => resolve()));
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    await waitFor("BIND to answer for its zone", async () => {
      if (named.exitCode !== null) throw new Error(`named exited: ${output.slice(-2000)}`);
      return (await resolver.resolveSoa(zone).then(() => true, () => false)) || undefined;
    }, 30_000, 100);
  } catch (error) {
    named.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    server: `127.0.0.1:${port}`,
    port,
    zone,
    tsig,
    async stop() {
      named.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
