// Fairness and capacity over HTTP (fastify.inject, in-memory edges, manual time): the slots, the line, a full host,
// launch rates, who counts as a visitor, launches from the operator's site, and the operator's templates and brand.
import { createHash, createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { httpApp, type HttpApp } from "../support/http-app.js";

const LIMITS = "limits: { maxDemos: 2, perClient: 1, queueLength: 1, launchesPerClient: 3, launchWindow: 10m }";

describe("fairness, capacity and the operator's own look", () => {
  let app: HttpApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const launchAs = (visitor: string, headers: Record<string, string> = {}) => app!.viaNginx(visitor, { method: "POST", url: "/api/demos", headers: { "content-type": "application/json", ...headers }, payload: { app: "hello" } });
  const stop = (id: string) => app!.inject({ method: "DELETE", url: `/api/demos/${id}`, remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081" } });

  it("fills the slots, then the line, then says full with Retry-After", async () => {
    app = await httpApp(LIMITS);
    const first = await launchAs("203.0.113.1");
    const second = await launchAs("203.0.113.2");
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    const waiting = await launchAs("203.0.113.3");
    expect(waiting.statusCode).toBe(201);
    expect(waiting.json()).toMatchObject({ status: "queued", queue: { position: 1 } });
    const full = await launchAs("203.0.113.4");
    expect(full.statusCode).toBe(429);
    expect(full.headers["content-type"]).toMatch(/^application\/problem\+json/);
    // The running demos' time boxes (10m) end in 600 s: that is the wait, at this very instant.
    expect(full.headers["retry-after"]).toBe("600");
    expect(full.json().detail).toBe("All 2 demo slots are in use and the waiting line is full. Try again in about 10m.");
    // A second click from a visitor returns their demo, queued or not, and takes no new slot.
    const again = await launchAs("203.0.113.3");
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(waiting.json().id);
    // The queued visitor's own host says where they are in line.
    const page = await app.viaNginx("203.0.113.3", { method: "GET", url: "/", headers: { host: waiting.json().host } });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain("You are in line");
    // A freed slot goes to the first in line at once.
    expect((await stop(first.json().id)).statusCode).toBe(204);
    expect(["starting", "ready"]).toContain(app.engine.get(waiting.json().id)?.status);
  });

  it("limits how often one visitor may launch, and lets them again once the window has moved on", async () => {
    app = await httpApp(LIMITS);
    const visitor = "198.51.100.7";
    for (let i = 0; i < 3; i += 1) {
      const answer = await launchAs(visitor);
      expect(answer.statusCode).toBe(201);
      await stop(answer.json().id);
    }
    const limited = await launchAs(visitor);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("600");
    expect(limited.json().detail).toBe("You launched 3 demos in the last 10m. Try again in about 10m.");
    await app.scheduler.advance(10 * 60_000);
    expect((await launchAs(visitor)).statusCode).toBe(201);
  });

  it("trusts X-Real-IP only from the configured proxies", async () => {
    app = await httpApp(LIMITS);
    const from = (peer: string, realIp: string) => app!.inject({ method: "POST", url: "/api/demos", remoteAddress: peer, headers: { host: "demo.localhost", "content-type": "application/json", "x-real-ip": realIp }, payload: { app: "hello" } });
    // From loopback (nginx), X-Real-IP is the visitor: two addresses, two demos.
    expect((await from("127.0.0.1", "192.0.2.50")).statusCode).toBe(201);
    expect((await from("127.0.0.1", "192.0.2.51")).statusCode).toBe(201);
    // From anyone else the header is theirs to forge: the peer is the visitor, whatever it says.
    const one = await from("192.0.2.99", "192.0.2.60");
    const two = await from("192.0.2.99", "192.0.2.61");
    expect(one.statusCode).toBe(201);
    expect(two.statusCode).toBe(200);
    expect(two.json().id).toBe(one.json().id);
  });

  it("counts one IPv6 /64 as one visitor, and keeps only a keyed hash of the visitor in the demo's labels", async () => {
    app = await httpApp(LIMITS);
    const first = await launchAs("2001:db8:5:6::1");
    expect(first.statusCode).toBe(201);
    const sameHost = await launchAs("2001:db8:5:6:ffff:1234:5678:9abc");
    expect(sameHost.statusCode).toBe(200);
    expect(sameHost.json().id).toBe(first.json().id);
    await app.scheduler.settle();
    const container = [...app.runtime.containers.values()].find((entry) => entry.labels["demo-launcher.id"] === first.json().id)!;
    const label = container.spec!.labels["demo-launcher.client"]!;
    // <network>.<visitor>, each an HMAC under the install's own key in the state dir: not the plain SHA-256 of old.
    const secret = Buffer.from((await readFile(path.join(app.config.stateDir, "visitor.key"), "utf8")).trim(), "base64");
    expect(secret.length).toBe(32);
    const hmac = (text: string) => createHmac("sha256", secret).update(text).digest("hex").slice(0, 16);
    expect(label).toBe(`${hmac("demo-launcher network/64 20010db8000500060000000000000000")}.${hmac("demo-launcher visitor/64 20010db8000500060000000000000000")}`);
    expect(label).not.toContain(createHash("sha256").update("demo-launcher:2001:db8:5:6::1").digest("hex").slice(0, 16));
  });

  it("accepts launches from the operator's own site and answers its CORS preflight; refuses other origins", async () => {
    app = await httpApp(`${LIMITS}\nallowedOrigins: [ "https://www.example.com" ]`);
    const preflight = await app.inject({ method: "OPTIONS", url: "/api/demos", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081", origin: "https://www.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://www.example.com");
    expect(preflight.headers["access-control-allow-methods"]).toBe("POST, GET");
    const form = await app.viaNginx("203.0.113.20", { method: "POST", url: "/launch", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://www.example.com" }, payload: "app=hello" });
    expect(form.statusCode).toBe(303);
    const foreign = await app.inject({ method: "OPTIONS", url: "/api/demos", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081", origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    const forged = await app.viaNginx("203.0.113.21", { method: "POST", url: "/launch", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, payload: "app=hello" });
    expect(forged.statusCode).toBe(403);
    // Launching is POST only.
    expect((await app.viaNginx("203.0.113.21", { method: "GET", url: "/launch?app=hello" })).statusCode).toBe(404);
  });

  it("renders the operator's template and brand, and serves their logo", async () => {
    app = await httpApp(`templatesDir: operator-templates\nbrand: { title: "Acme CRM", logo: logo.svg, accentColor: "#aa3300" }`, {
      files: {
        "operator-templates/pages/landing.eta": '<%~ include("pages/_head.eta", it) %><h1>Operator landing for <%= it.brand.title %></h1><% for (const app of it.apps) { %><p><%= app.name %></p><% } %><%~ include("pages/_foot.eta", it) %>',
        "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#a30"/></svg>',
      },
    });
    const landing = await app.viaNginx("203.0.113.30", { method: "GET", url: "/" });
    expect(landing.body).toContain("<h1>Operator landing for Acme CRM</h1>");
    expect(landing.body).toContain("--accent:#aa3300");
    expect(landing.body).toContain('<img src="/assets/logo" alt="Acme CRM">');
    const logo = await app.viaNginx("203.0.113.30", { method: "GET", url: "/assets/logo" });
    expect(logo.headers["content-type"]).toBe("image/svg+xml");
    expect(logo.body).toContain("<svg");
    // Pages the operator did not override still come from the built-in templates, with their brand.
    const unknown = await app.viaNginx("203.0.113.30", { method: "GET", url: "/", headers: { host: "zzzz0000.demo.localhost" } });
    expect(unknown.body).toContain("There is no demo here");
    expect(unknown.body).toContain("Acme CRM");
  });
});
