// The DNS-01 providers against a real BIND: RFC 2136 updates signed with TSIG put a TXT value in beside another one
// (a wildcard and its apex), the record is seen at the authoritative server before validation, taken out after; a
// wrong key is refused in the server's words; the operator's command is called with the name and value.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rfc2136Provider } from "../../src/tls/rfc2136.js";
import { ExecProvider } from "../../src/tls/exec-provider.js";
import { lookupTxt } from "../../src/tls/txt-lookup.js";
import { challengeName, waitUntilVisible } from "../../src/core/tls/dns-challenge.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";
import { startBind, type LocalBind } from "../support/bind.js";

describe("DNS-01 records in a real BIND", () => {
  let bind: LocalBind;
  let dir: string;
  const provider = (secret?: string) => new Rfc2136Provider({ server: "127.0.0.1", port: bind.port, zone: bind.zone, tsig: { ...bind.tsig, ...(secret ? { secret } : {}) }, ttl: 60, timeoutMs: 10_000 });

  beforeAll(async () => {
    bind = await startBind();
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-dns-exec-"));
  }, 60_000);

  afterAll(async () => {
    await bind?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("adds two values at one name (the wildcard's and the apex's), sees them at the server, and removes one at a time", async () => {
    const name = challengeName(`*.${bind.zone}`);
    expect(name).toBe(`_acme-challenge.${bind.zone}`);
    expect(challengeName(bind.zone)).toBe(name);
    const updates = provider();
    await updates.present(name, "wildcard-value_-0123456789");
    await updates.present(name, "apex-value");
    // Asked of the authoritative server itself: both are there before the ACME server would be told to look.
    await waitUntilVisible(lookupTxt, [bind.server], name, "apex-value", systemScheduler);
    expect((await lookupTxt(bind.server, name)).sort()).toEqual(["apex-value", "wildcard-value_-0123456789"]);
    await updates.cleanup(name, "apex-value");
    expect(await lookupTxt(bind.server, name)).toEqual(["wildcard-value_-0123456789"]);
    await updates.cleanup(name, "wildcard-value_-0123456789");
    expect(await lookupTxt(bind.server, name)).toEqual([]);
  });

  it("refuses an update signed with another key in the server's words, and changes nothing", async () => {
    await expect(provider(Buffer.alloc(32, 7).toString("base64")).present(`_acme-challenge.${bind.zone}`, "forged")).rejects.toThrow(new RegExp(`the DNS server 127\\.0\\.0\\.1:${bind.port} refused the update of zone ${bind.zone}: .*(BADSIG|BADKEY|NOTAUTH|REFUSED|tsig)`, "i"));
    expect(await lookupTxt(bind.server, `_acme-challenge.${bind.zone}`)).toEqual([]);
  });

  it("calls the operator's command with present or cleanup, the name and the value, as arguments", async () => {
    const script = path.join(dir, "dns-hook");
    const log = path.join(dir, "calls");
    await writeFile(script, `#!/bin/sh\nprintf '%s|%s|%s\\n' "$1" "$2" "$3" >> ${log}\n[ "$3" != fail ] || { echo "the API said no" >&2; exit 4; }\n`);
    await chmod(script, 0o755);
    const hook = new ExecProvider([script]);
    await hook.present("_acme-challenge.example.org", "v1;$(touch /tmp/never)");
    await hook.cleanup("_acme-challenge.example.org", "v1;$(touch /tmp/never)");
    expect(await readFile(log, "utf8")).toBe("present|_acme-challenge.example.org.|v1;$(touch /tmp/never)\ncleanup|_acme-challenge.example.org.|v1;$(touch /tmp/never)\n");
    await expect(hook.present("_acme-challenge.example.org", "fail")).rejects.toThrow(`the DNS command ${script} present failed (exit 4): the API said no`);
  });
});
