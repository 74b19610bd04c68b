// DNS-01 records by RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS), through Debian's nsupdate.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { DnsProvider } from "../core/tls/dns-challenge.js";

export interface Rfc2136Settings {
  /** The primary server that takes updates: host or address, and its port (53 by default). */
  server: string;
  port: number;
  /** The zone the names are updated in (the domain, or a parent of it). */
  zone: string;
  tsig: { name: string; algorithm: string; secret: string };
  ttl: number;
  timeoutMs: number;
}

/** Quoted for a zone file's TXT data: an ACME value is base64url, so only a quote or a backslash could need it. */
function txt(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

export class Rfc2136Provider implements DnsProvider {
  constructor(private readonly settings: Rfc2136Settings) {}

  present(name: string, value: string): Promise<void> {
    return this.update(`update add ${name}. ${this.settings.ttl} IN TXT ${txt(value)}`);
  }

  cleanup(name: string, value: string): Promise<void> {
    return this.update(`update delete ${name}. IN TXT ${txt(value)}`);
  }

  /**
   * One signed update. The key goes to nsupdate in a file only this user can read, never on its command line (which
   * `ps` shows); the server's answer (REFUSED, NOTAUTH, a bad key) becomes the error's words.
   */
  private async update(line: string): Promise<void> {
    const { server, port, zone, tsig, timeoutMs } = this.settings;
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-nsupdate-"));
    const keyFile = path.join(dir, "tsig.key");
    try {
      await writeFile(keyFile, `key "${tsig.name}" {\n  algorithm ${tsig.algorithm};\n  secret "${tsig.secret}";\n};\n`, { mode: 0o600 });
      const script = [`server ${server} ${port}`, `zone ${zone}.`, line, "send", ""].join("\n");
      const result = await execa("nsupdate", ["-k", keyFile, "-t", String(Math.max(1, Math.round(timeoutMs / 1000)))], { input: script, reject: false, all: true, timeout: timeoutMs + 5000 });
      if (result.exitCode !== 0) throw new Error(`the DNS server ${server}:${port} refused the update of zone ${zone}: ${String(result.all ?? "").trim().split("\n").slice(-3).join(" ") || `nsupdate exit ${result.exitCode}`}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
