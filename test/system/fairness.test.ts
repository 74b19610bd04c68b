// Fairness and capacity over HTTP (real Docker, real nginx): per-visitor and rate limits, the line, a full
// host, who counts as a visitor, the operator's templates and brand, and launches from the operator's site.
import { createHash, createHmac } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceContainers, request, startStack, waitFor, type Stack } from "../support/stack.js";

describe("fairness, capacity and the operator's own look (real Docker, real nginx)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      extraYaml: `allowedOrigins: [ "https://www.example.com" ]
templatesDir: operator-templates
brand: { title: "Acme CRM", logo: logo.svg, accentColor: "#aa3300" }
`,
      ports: undefined,
      beforeStart: async (dir) => {
        await mkdir(path.join(dir, "operator-templates", "pages"), { recursive: true });
        await writeFile(path.join(dir, "operator-templates", "pages", "landing.eta"), '<%~ include("pages/_head.eta", it) %><h1>Operator landing for <%= it.brand.title %></h1><% for (const app of it.apps) { %><p><%= app.name %></p><% } %><%~ include("pages/_foot.eta", it) %>');
        await writeFile(path.join(dir, "logo.svg"), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#a30"/></svg>');
      },
      limitsYaml: "limits: { maxDemos: 2, perClient: 1, queueLength: 1, launchesPerClient: 3, launchWindow: 10m }",
    });
  });
  afterAll(async () => stack?.close());

  // Visitors as nginx would introduce them: the controller trusts X-Real-IP from loopback.
  const asVisitor = (ip: string, headers: Record<string, string> = {}) =>
    request(stack.config.listen.port, { host: "demo.localhost", method: "POST", path: "/api/demos", body: '{"app":"hello"}', headers: { "content-type": "application/json", "x-real-ip": ip, ...headers } });

  it("fills the slots, then the line, then says full with Retry-After", async () => {
    const first = await asVisitor("203.0.113.1");
    const second = await asVisitor("203.0.113.2");
    expect([first.status, second.status]).toEqual([201, 201]);
    const waiting = await asVisitor("203.0.113.3");
    expect(waiting.status).toBe(201);
    expect(JSON.parse(waiting.body)).toMatchObject({ status: "queued", queue: { position: 1 } });
    const full = await asVisitor("203.0.113.4");
    expect(full.status).toBe(429);
    expect(full.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(full.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(JSON.parse(full.body).detail).toMatch(/^All 2 demo slots are in use and the waiting line is full\. Try again in about (9|10)m/);

    // A second click from a visitor returns their demo, queued or not, and takes no new slot.
    const again = await asVisitor("203.0.113.3");
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(waiting.body).id);

    // The queued visitor's own host says where they are in line.
    const page = await stack.viaNginx(JSON.parse(waiting.body).host, "/");
    expect(page.status).toBe(503);
    expect(page.body).toContain("You are in line");

    // A freed slot goes to the first in line at once.
    await stack.api("DELETE", `/api/demos/${JSON.parse(first.body).id}`);
    const promoted = JSON.parse((await stack.api("GET", `/api/demos/${JSON.parse(waiting.body).id}`)).body);
    expect(["starting", "ready"]).toContain(promoted.status);
    for (const answer of [second, waiting]) await stack.api("DELETE", `/api/demos/${JSON.parse(answer.body).id}`);
  });

  it("limits how often one visitor may launch", async () => {
    const ip = "198.51.100.7";
    for (let i = 0; i < 3; i += 1) {
      const answer = await asVisitor(ip);
      expect(answer.status).toBe(201);
      await stack.api("DELETE", `/api/demos/${JSON.parse(answer.body).id}`);
    }
    const limited = await asVisitor(ip);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(JSON.parse(limited.body).detail).toMatch(/^You launched 3 demos in the last 10m\. Try again in about/);
  });

  it("trusts X-Real-IP only from the configured proxies", async () => {
    // Through nginx every visitor is the real peer: a forged X-Real-IP header is overwritten by nginx.
    const json = { "content-type": "application/json" };
    const one = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { ...json, "x-real-ip": "192.0.2.50" }, body: '{"app":"hello"}' });
    const two = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { ...json, "x-real-ip": "192.0.2.51" }, body: '{"app":"hello"}' });
    expect(JSON.parse(two.body).id).toBe(JSON.parse(one.body).id);
    await stack.api("DELETE", `/api/demos/${JSON.parse(one.body).id}`);
  });

  it("counts one IPv6 /64 as one visitor, and keeps only a keyed hash of the visitor in Docker's labels", async () => {
    const first = await asVisitor("2001:db8:5:6::1");
    expect(first.status).toBe(201);
    // Another address of the same /64 is the same visitor: their demo back, no new slot.
    const sameHost = await asVisitor("2001:db8:5:6:ffff:1234:5678:9abc");
    expect(sameHost.status).toBe(200);
    expect(JSON.parse(sameHost.body).id).toBe(JSON.parse(first.body).id);
    const container = await waitFor("the demo's container", async () => (await namespaceContainers(stack.docker, stack.namespace)).find((info) => info.Labels["demo-launcher.id"] === JSON.parse(first.body).id));
    const label = container.Labels["demo-launcher.client"]!;
    // <network>.<visitor>, each an HMAC under the install's own key in the state dir: not the plain SHA-256 of old.
    const secret = Buffer.from((await readFile(path.join(stack.dir, "state", "visitor.key"), "utf8")).trim(), "base64");
    expect(secret.length).toBe(32);
    const hmac = (text: string) => createHmac("sha256", secret).update(text).digest("hex").slice(0, 16);
    expect(label).toBe(`${hmac("demo-launcher network/64 20010db8000500060000000000000000")}.${hmac("demo-launcher visitor/64 20010db8000500060000000000000000")}`);
    expect(label).not.toContain(createHash("sha256").update("demo-launcher:2001:db8:5:6::1").digest("hex").slice(0, 16));
    await stack.api("DELETE", `/api/demos/${JSON.parse(first.body).id}`);
  });

  it("accepts launches from the operator's own site and answers its CORS preflight", async () => {
    const preflight = await request(stack.config.listen.port, { method: "OPTIONS", path: "/api/demos", headers: { origin: "https://www.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://www.example.com");
    expect(preflight.headers["access-control-allow-methods"]).toBe("POST, GET");
    const form = await stack.viaNginx("demo.localhost", "/launch", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://www.example.com" }, body: "app=hello" });
    expect(form.status).toBe(303);
    const foreign = await request(stack.config.listen.port, { method: "OPTIONS", path: "/api/demos", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    const forged = await stack.viaNginx("demo.localhost", "/launch", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, body: "app=hello" });
    expect(forged.status).toBe(403);
    // Launching is POST only.
    expect((await stack.viaNginx("demo.localhost", "/launch?app=hello")).status).toBe(404);
  });

  it("renders the operator's template and brand, and serves their logo", async () => {
    const landing = await stack.viaNginx("demo.localhost", "/");
    expect(landing.body).toContain("<h1>Operator landing for Acme CRM</h1>");
    expect(landing.body).toContain("--accent:#aa3300");
    expect(landing.body).toContain('<img src="/assets/logo" alt="Acme CRM">');
    const logo = await stack.viaNginx("demo.localhost", "/assets/logo");
    expect(logo.headers["content-type"]).toBe("image/svg+xml");
    expect(logo.body).toContain("<svg");
    // Pages the operator did not override still come from the built-in templates, with their brand.
    const unknown = await stack.viaNginx("zzzz0000.demo.localhost", "/");
    expect(unknown.body).toContain("There is no demo here");
    expect(unknown.body).toContain("Acme CRM");
  });
});
