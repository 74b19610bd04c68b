// Benchmark section: HTTPS. A demo page's TLS handshake + first byte through nginx against plain HTTP to the same app
// through another nginx, in the same run (new connections, alternated); and a renewal swapped under a request loop:
// requests failed (target 0) and nginx reloads (target 1). The wildcard comes from Pebble, validated at a real BIND.
import http from "node:http";
import https from "node:https";
import { httpsGet } from "../test/support/https.js";
import { startAcmeLab } from "../test/support/acme-lab.js";
import { launchAndWait, startStack, waitFor } from "../test/support/stack.js";
import { median, round } from "./measure.js";

export interface TlsResults {
  requests: number;
  httpsFirstByteP50Ms: number;
  plainFirstByteP50Ms: number;
  ratio: number;
  swapRequests: number;
  swapFailedRequests: number;
  swapReloads: number;
}

/** From a new connection to the response's headers: the handshake (over TLS) and nginx proxying to the demo. */
function firstByteMs(port: number, host: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const options = { host: "127.0.0.1", port, path: "/", servername: host, headers: { host }, agent: false as const, timeout: 10_000 };
    const req = (ca ? https.request({ ...options, ca }) : http.request(options)).on("response", (res) => {
      const ms = performance.now() - started;
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(ms) : reject(new Error(`answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function tlsBench(requests: number, log: (line: string) => void): Promise<TlsResults> {
  const lab = await startAcmeLab();
  const { bind, tls, tlsPort, root } = lab;
  const tlsStack = lab.stack;
  const plainStack = await startStack({ domain: bind.zone }).catch(async (error: unknown) => {
    await lab.close();
    throw error;
  });
  try {
    await waitFor("the first certificate", async () => (tls.report().certificate && !tls.report().certificate?.placeholder && !tls.report().ordering) || undefined, 120_000, 50);
    const [plainDemo, tlsDemo] = [await launchAndWait(plainStack), await launchAndWait(tlsStack)];
    const plain: number[] = [];
    const secure: number[] = [];
    // Alternated, so a noisy moment weighs on both alike.
    for (let index = 0; index < requests; index += 1) {
      plain.push(await firstByteMs(plainStack.nginxPort, plainDemo.host));
      secure.push(await firstByteMs(tlsPort, tlsDemo.host, root));
    }

    // A renewal under a request loop (a new handshake per request): the swap is one reload, no request fails.
    const before = (await httpsGet(tlsPort, tlsDemo.host, root)).fingerprint;
    const reloadsBefore = tlsStack.watcher.currentStatus().reloads;
    let swapRequests = 0;
    let failed = 0;
    let swapped = false;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        swapRequests += 1;
        const answer = await httpsGet(tlsPort, tlsDemo.host, root).catch(() => undefined);
        if (answer?.status !== 200) failed += 1;
        else if (answer.fingerprint !== before) swapped = true;
      }
    })();
    await tls.renewNow();
    await waitFor("the loop to be served the renewed certificate", async () => swapped || undefined, 30_000, 20);
    stop = true;
    await loop;
    const results: TlsResults = {
      requests,
      httpsFirstByteP50Ms: round(median(secure), 2),
      plainFirstByteP50Ms: round(median(plain), 2),
      ratio: round(median(secure) / median(plain), 2),
      swapRequests,
      swapFailedRequests: failed,
      swapReloads: tlsStack.watcher.currentStatus().reloads - reloadsBefore,
    };
    log(`tls: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await plainStack.close();
    await lab.close();
  }
}

export function tlsRows(r: TlsResults): string[][] {
  return [
    [`HTTPS: TLS handshake + first byte of a demo page through nginx, p50 (new connections, ${r.requests} requests)`, `${r.httpsFirstByteP50Ms} ms`, `plain HTTP ${r.plainFirstByteP50Ms} ms`, `${r.ratio}× plain`],
    [`HTTPS: a renewal swapped under a request loop (${r.swapRequests} requests, each a new handshake)`, `${r.swapFailedRequests} failed, ${r.swapReloads} nginx reload(s)`, "—", "targets 0 failed, 1 reload"],
  ];
}
