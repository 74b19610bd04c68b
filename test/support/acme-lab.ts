// A stack that orders its certificates from a real ACME server: BIND (RFC 2136 with TSIG) and Pebble started for it,
// nginx serving HTTPS on a port of its own. Tests and the benchmark's tls section use it; close() stops all three.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { TlsService } from "../../src/app/tls.js";
import { startBind, type LocalBind } from "./bind.js";
import { acmeTlsYaml, startPebble, type LocalPebble } from "./pebble.js";
import { freePort, startStack, type Stack, type StackOptions } from "./stack.js";

export interface AcmeLab {
  bind: LocalBind;
  pebble: LocalPebble;
  stack: Stack;
  tls: TlsService;
  /** nginx's HTTPS port. */
  tlsPort: number;
  /** The root Pebble issues from: what a client trusts. */
  root: string;
  close(): Promise<void>;
}

export interface AcmeLabOptions {
  /** Pebble's certificates' lifetime (short ones renew within a test). */
  validitySeconds?: number;
  /** BIND zones whose every name is this machine: demos' own names, where Pebble checks HTTP-01 (at nginx's plain port). */
  addressZones?: string[];
  /** More of the config's `tls:` (hsts) and of its `acme:` section (email, renewBefore). */
  hsts?: string;
  acme?: string[];
  /** YAML before the `tls:` section (shared demos), and the stack's apps. */
  extraYaml?: string;
  appsYaml?: string;
}

export async function startAcmeLab(options: AcmeLabOptions = {}): Promise<AcmeLab> {
  const bind = await startBind("example.test", options.addressZones ?? []);
  const nginxPort = await freePort();
  const tlsPort = await freePort();
  let pebble: LocalPebble | undefined;
  try {
    pebble = await startPebble(bind.server, { httpPort: nginxPort, ...(options.validitySeconds ? { validitySeconds: options.validitySeconds } : {}) });
    const started = pebble;
    const stackOptions: StackOptions = {
      domain: bind.zone,
      nginxPort,
      nginxYaml: `  listenTls: 127.0.0.1:${tlsPort}`,
      beforeStart: (dir) => writeFile(path.join(dir, "pebble-ca.pem"), started.listenerCa),
      extraYaml: `${options.extraYaml ? `${options.extraYaml}\n` : ""}${acmeTlsYaml(started, bind, { ...(options.hsts ? { hsts: options.hsts } : {}), ...(options.acme ? { acme: options.acme } : {}) })}`,
      ...(options.appsYaml ? { appsYaml: options.appsYaml } : {}),
    };
    const stack = await startStack(stackOptions);
    return {
      bind,
      pebble: started,
      stack,
      tls: stack.controller!.tls!,
      tlsPort,
      root: await started.issuingRoot(),
      async close() {
        await stack.close();
        await started.stop();
        await bind.stop();
      },
    };
  } catch (error) {
    await pebble?.stop();
    await bind.stop();
    throw error;
  }
}
