// Confirming new routes with a real nginx: not while a worker of the previous routes can still take a connection.
import http from "node:http";
import net from "node:net";
import { CountingScheduler } from "../support/scheduler.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateNginx } from "../../src/nginx/private-nginx.js";
import { RoutesFile } from "../../src/nginx/routes-file.js";
import { olderNginxWorkersRetired } from "../../src/nginx/workers.js";
import { nginxRouteConfirmer, readServedGeneration } from "../../src/nginx/confirm.js";
import { freePort, waitFor } from "../support/stack.js";

describe("route confirmation (real nginx)", () => {
  let dir: string;
  let nginx: PrivateNginx;
  let routes: RoutesFile;
  let probeUrl: string;
  const controller = http.createServer((_request, response) => response.end("controller"));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "route-confirm-"));
    await new Promise<void>((resolve) => controller.listen(0, "127.0.0.1", resolve));
    const port = await freePort();
    probeUrl = `http://127.0.0.1:${port}`;
    routes = new RoutesFile(path.join(dir, "config"), { host: "127.0.0.1", port: (controller.address() as net.AddressInfo).port });
    nginx = await PrivateNginx.prepare({ prefix: path.join(dir, "prefix"), configDir: path.join(dir, "config"), listen: { host: "127.0.0.1", port } });
    await routes.write([], 1);
    await nginx.start();
  });

  afterAll(async () => {
    await nginx?.close();
    controller.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names the worker that answered, and can tell an nginx worker from any other process", async () => {
    const served = await waitFor("nginx to answer its generation", () => readServedGeneration(probeUrl, "demo.localhost"), 5000, 50);
    expect(served.generation).toBe(1);
    expect(served.worker).toBeGreaterThan(1);
    expect(await olderNginxWorkersRetired(served.worker!)).toBe(true);
    // Our own pid is no nginx worker (as nginx's pid seen from another pid namespace would not be): cannot tell.
    expect(await olderNginxWorkersRetired(process.pid)).toBeUndefined();
  });

  it("waits until the worker of the previous routes has stopped accepting, which the probes alone cannot see", async () => {
    const old = (await readServedGeneration(probeUrl, "demo.localhost"))!.worker!;
    // A worker the CPU has not run since the reload told it to stop: held stopped here, it keeps its share of
    // the listening socket, as a starved one on a loaded host does.
    process.kill(old, "SIGSTOP");
    let answering = 0;
    try {
      await routes.write([{ id: "fresh001", host: "fresh001.demo.localhost", backends: ["127.0.0.1:9"] }], 2);
      await execa("sh", ["-c", nginx.reloadCommand]);
      let confirmed: string | undefined;
      const scheduler = new CountingScheduler();
      const waiting = nginxRouteConfirmer(probeUrl, "demo.localhost", { olderWorkersRetired: olderNginxWorkersRetired, scheduler })(2, 20_000).then((result) => (confirmed = result));
      // The new worker answers every probe with the new generation meanwhile: probes alone would say "served".
      expect(await nginxRouteConfirmer(probeUrl, "demo.localhost")(2, 10_000)).toBe("served");
      answering = (await readServedGeneration(probeUrl, "demo.localhost"))!.worker!;
      expect(answering).not.toBe(old);
      expect(await olderNginxWorkersRetired(answering)).toBe(false);
      // Many readings later, each with the new generation and the old worker still there: not confirmed.
      await scheduler.moreWaits(30);
      expect(confirmed).toBeUndefined();
      // What that would cost: a visitor's connection that the old worker takes is served by the old routes (the
      // controller's page), though the probes said the new ones were served. The new worker is held for this.
      process.kill(answering, "SIGSTOP");
      let visitorPort = 0;
      let visitor: Promise<string> = Promise.resolve("");
      const connected = new Promise<void>((resolve) => {
        visitor = new Promise<string>((answered) => {
          const request = http.get({ host: "127.0.0.1", port: new URL(probeUrl).port, headers: { host: "fresh001.demo.localhost" }, agent: false }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => answered(body));
          });
          request.on("socket", (socket) => socket.once("connect", () => ((visitorPort = socket.localPort ?? 0), resolve())));
          request.on("error", (error) => answered(`error: ${error.message}`));
        });
      });
      // The kernel completes the connection while both workers are stopped; it waits in the listen queue.
      await connected;
      process.kill(old, "SIGCONT");
      // Only the old worker runs: it takes the connection and answers it with the old routes (the controller's page).
      let answered: string | undefined;
      void visitor.then((body) => (answered = body));
      await waitFor(`the old worker to answer the visitor (port ${visitorPort})`, async () => answered !== undefined, 10_000, 20);
      process.kill(answering, "SIGCONT");
      expect(await visitor).toBe("controller");
      await waiting;
      expect(confirmed).toBe("served");
      expect(await olderNginxWorkersRetired(answering)).toBe(true);
    } finally {
      for (const pid of [old, answering]) {
        try {
          if (pid) process.kill(pid, "SIGCONT");
        } catch {
          // already gone: it retired
        }
      }
    }
  }, 30_000);
});
