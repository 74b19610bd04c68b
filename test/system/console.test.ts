// The console's sign-in and guards over real HTTP (nginx, controller, Docker): token sessions, cookies, CSRF, hosts, live state.
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Signer, SESSION_COOKIE } from "../../src/http/console/session.js";
import { launchAndWait, type Stack, startStack, untilPast, waitFor } from "../support/stack.js";

const TOKEN = "console-test-token-0123456789";

/** The session cookie's value from a sign-in's Set-Cookie. */
function sessionFrom(headers: http.IncomingHttpHeaders): string {
  const cookie = [headers["set-cookie"] ?? []].flat().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(headers["set-cookie"])}`);
  return cookie.slice(SESSION_COOKIE.length + 1).split(";")[0]!;
}

describe("the console's sign-in and guards", () => {
  let stack: Stack;
  let origin: string;
  /** One demo for every test: the stack has a token, so launches from here count against one visitor. */
  let demo: Awaited<ReturnType<typeof launchAndWait>>;
  const apex = "demo.localhost";
  const signIn = async () => {
    const answer = await stack.viaNginx(apex, "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: `token=${TOKEN}` });
    expect(answer.status).toBe(303);
    return sessionFrom(answer.headers);
  };
  const csrfOf = async (session: string) => {
    const page = await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
    expect(page.status).toBe(200);
    return /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!;
  };

  beforeAll(async () => {
    stack = await startStack({ extraYaml: `adminToken: ${TOKEN}\nadmin: { session: 3s }` });
    origin = `http://${apex}:${stack.nginxPort}`;
    demo = await launchAndWait(stack);
  }, 120_000);
  afterAll(async () => stack?.close());

  it("signs in with the token into a __Host- cookie that is Secure, HttpOnly, SameSite and expires", async () => {
    const answer = await stack.viaNginx(apex, "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: `token=${TOKEN}` });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe("/__admin/");
    const cookie = [answer.headers["set-cookie"]].flat().find((line) => line?.startsWith(SESSION_COOKIE))!;
    expect(cookie).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=3$/);
    expect(cookie).not.toMatch(/Domain=/i);
    const page = await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${sessionFrom(answer.headers)}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain("Signed in as <strong>admin token</strong>");
  });

  it("refuses a wrong token, and sends console URLs without a session to the sign-in", async () => {
    const wrong = await stack.viaNginx(apex, "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: "token=not-the-token-at-all" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    for (const url of ["/__admin/", "/__admin"]) {
      const answer = await stack.viaNginx(apex, url);
      expect([303, 308]).toContain(answer.status);
    }
    expect((await stack.viaNginx(apex, "/__admin/")).headers.location).toBe("/__admin/sign-in");
    const state = await stack.viaNginx(apex, "/__admin/state");
    expect(state.status).toBe(401);
    expect(state.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("refuses forged, expired and signed-out sessions", async () => {
    const session = await signIn();
    const [body, signature] = session.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, who: "mallory" })).toString("base64url")}.${signature}`;
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${forged}` } })).status).toBe(303);
    // Correctly signed with the controller's own key, but past its end.
    const signer = new Signer(Buffer.from((await readFile(path.join(stack.config.stateDir, "console.key"), "utf8")).trim(), "base64"), () => Date.now());
    const expired = signer.sign("session", { ...claims, exp: Date.now() - 1000 });
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${expired}` } })).status).toBe(303);
    const stillValid = signer.sign("session", { ...claims, exp: Date.now() + 60_000 });
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${stillValid}` } })).status).toBe(200);
    // A value signed for another purpose (the sign-in's pending state) is no session.
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${signer.sign("sign-in", { ...claims, exp: Date.now() + 60_000 })}` } })).status).toBe(303);
    // The session ends by itself (admin.session: 3s here).
    await untilPast(claims.exp);
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${session}` } })).status).toBe(303);
    // Signing out ends a session before its time.
    const fresh = await signIn();
    const csrf = await csrfOf(fresh);
    const out = await stack.viaNginx(apex, "/__admin/sign-out", { method: "POST", headers: { cookie: `${SESSION_COOKIE}=${fresh}`, origin, "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${csrf}` });
    expect(out.status).toBe(303);
    expect((await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${fresh}` } })).status).toBe(303);
  });

  it("refuses an action without the session's CSRF token or from another origin, and does it with both", async () => {
    const session = await signIn();
    const csrf = await csrfOf(session);
    const extend = (headers: Record<string, string>) => stack.viaNginx(apex, `/api/demos/${demo.id}/extend`, { method: "POST", headers: { "content-type": "application/json", cookie: `${SESSION_COOKIE}=${session}`, ...headers }, body: JSON.stringify({ by: "5m" }) });
    const before = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).expiresAt;
    expect((await extend({ origin })).status).toBe(403);
    expect((await extend({ origin, "x-csrf-token": "x".repeat(43) })).status).toBe(403);
    // A demo's page is a sibling origin: same site, still not the console.
    expect((await extend({ origin: `http://${demo.host}:${stack.nginxPort}`, "x-csrf-token": csrf })).status).toBe(403);
    // Another session's token does not fit this one.
    expect((await extend({ origin, "x-csrf-token": await csrfOf(await signIn()) })).status).toBe(403);
    expect(JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).expiresAt).toBe(before);
    const done = await extend({ origin, "x-csrf-token": csrf });
    expect(done.status).toBe(200);
    expect(Date.parse(JSON.parse(done.body).expiresAt) - Date.parse(before)).toBe(5 * 60_000);
    // The bearer token keeps working for the API and the CLI, without cookies or CSRF.
    const bearer = await stack.viaNginx(apex, `/api/demos/${demo.id}/extend`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ by: "1m" }) });
    expect(bearer.status).toBe(200);
  });

  it("shows nothing of the console on a demo's host, and ignores cookies a demo could set", async () => {
    const session = await signIn();
    // Through nginx a ready demo's host is the demo's own app; straight to the controller, a demo's host (live or
    // not) gets that demo's own pages. Neither ever shows the console, its state or its cookie.
    const straight = (host: string, url: string) =>
      new Promise<{ status: number; body: string; cookies: unknown }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: stack.config.listen.port, path: url, headers: { host, "x-real-ip": "203.0.113.9", cookie: `${SESSION_COOKIE}=${session}` } }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, cookies: res.headers["set-cookie"] }));
        });
        req.on("error", reject);
        req.end();
      });
    for (const url of ["/__admin/", "/__admin/sign-in", "/__admin/state", "/__admin/events", "/__admin/console.js"]) {
      for (const answer of [await straight(demo.host, url), await straight("nosuchdemo.demo.localhost", url), await stack.viaNginx(demo.host, url, { headers: { cookie: `${SESSION_COOKIE}=${session}` } })]) {
        expect(answer.body, url).not.toMatch(/csrf-token|"health"|Signed in as|EventSource/);
      }
    }
    // What a demo's page can set for the parent domain: other names, or our name without the prefix's guarantees.
    for (const planted of [`dl-session=${session}`, `__host-dl-session=${session}`, `${SESSION_COOKIE}=forged.value`, `${SESSION_COOKIE}=${session}; ${SESSION_COOKIE}=forged.value`]) {
      const answer = await stack.viaNginx(apex, "/__admin/", { headers: { cookie: planted } });
      expect(answer.status, planted).toBe(303);
    }
  });

  it("streams the live state: a launched demo appears without a reload", async () => {
    const session = await signIn();
    const events: string[] = [];
    const req = http.request({ host: "127.0.0.1", port: stack.nginxPort, path: "/__admin/events", headers: { host: apex, cookie: `${SESSION_COOKIE}=${session}` } });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => { req.on("response", resolve); req.on("error", reject); req.end(); });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/event-stream/);
    response.on("data", (chunk: Buffer) => events.push(chunk.toString()));
    await waitFor("the first state", async () => events.join("").includes("event: state"), 5000);
    const launched = await stack.viaNginx(apex, "/api/demos", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ app: "hello" }) });
    expect(launched.status).toBe(201);
    const { id } = JSON.parse(launched.body);
    await waitFor(`demo ${id} in the stream`, async () => events.join("").includes(`"id":"${id}"`), 10_000);
    // The session (3s) ends: the stream says so and closes.
    await waitFor("the stream to end with the session", async () => response.readableEnded || events.join("").includes("event: signed-out"), 8000);
    req.destroy();
  });
});

describe("the console on a host of its own (admin.host)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ extraYaml: `adminToken: ${TOKEN}\nadmin: { host: ops.example.test }` });
  }, 120_000);
  afterAll(async () => stack?.close());

  it("is served there only, with its cookie for that host", async () => {
    expect((await stack.viaNginx("demo.localhost", "/__admin/sign-in")).status).toBe(404);
    expect((await stack.viaNginx("demo.localhost", "/__admin/")).status).toBe(404);
    expect((await stack.viaNginx("ops.example.test", "/")).headers.location).toBe("/__admin/");
    expect((await stack.viaNginx("ops.example.test", "/__admin/sign-in")).status).toBe(200);
    const origin = `http://ops.example.test:${stack.nginxPort}`;
    // The apex's origin is a stranger to this console.
    const fromApex = await stack.viaNginx("ops.example.test", "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: `http://demo.localhost:${stack.nginxPort}` }, body: `token=${TOKEN}` });
    expect(fromApex.status).toBe(403);
    const signIn = await stack.viaNginx("ops.example.test", "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: `token=${TOKEN}` });
    expect(signIn.status).toBe(303);
    const session = sessionFrom(signIn.headers);
    const state = await stack.viaNginx("ops.example.test", "/__admin/state", { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
    expect(state.status).toBe(200);
    expect(Object.keys(JSON.parse(state.body).state)).toEqual(["apps", "demos", "queue", "pools", "builds", "previews", "shared", "deliveries", "health"]);
    // The same cookie sent to the apex opens nothing there.
    expect((await stack.viaNginx("demo.localhost", "/__admin/state", { headers: { cookie: `${SESSION_COOKIE}=${session}` } })).status).toBe(404);
    expect((await stack.viaNginx("demo.localhost", "/api/demos", { headers: { cookie: `${SESSION_COOKIE}=${session}` } })).status).toBe(401);
  });
});

describe("the console without a token or a provider", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => stack?.close());

  it("opens for this machine only, and a page of another origin in the operator's browser cannot use the API", async () => {
    const port = stack.config.listen.port;
    const direct = (method: string, url: string, headers: Record<string, string> = {}, body?: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: url, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const page = await direct("GET", "/__admin/sign-in");
    expect(page.body).toContain("Open the console");
    // Through nginx nobody is "this machine": no button, and the form refuses.
    expect((await stack.viaNginx("demo.localhost", "/__admin/sign-in")).body).toContain("Signing in is not set up here");
    const refused = await stack.viaNginx("demo.localhost", "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: `http://demo.localhost:${stack.nginxPort}` }, body: "local=1" });
    expect(refused.status).toBe(401);
    const local = await direct("POST", "/__admin/sign-in", { "content-type": "application/x-www-form-urlencoded", origin: `http://127.0.0.1:${port}` }, "local=1");
    expect(local.status).toBe(303);
    expect((await direct("GET", "/__admin/", { cookie: `${SESSION_COOKIE}=${sessionFrom(local.headers)}` })).body).toContain("Signed in as <strong>this machine</strong>");
    const demo = await launchAndWait(stack);
    // A page from elsewhere, posting to the controller on 127.0.0.1 with the operator's browser, is not the operator.
    expect((await direct("DELETE", `/api/demos/${demo.id}`, { origin: "http://attacker.example" })).status).toBe(401);
    expect(JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).status).toBe("ready");
    expect((await direct("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
  });
});

describe("wrong tokens in the sign-in form", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ extraYaml: `adminToken: ${TOKEN}` });
  }, 120_000);
  afterAll(async () => stack?.close());

  it("are refused, and after 10 the visitor waits, even with the right one", async () => {
    const origin = `http://demo.localhost:${stack.nginxPort}`;
    const attempt = (token: string) => stack.viaNginx("demo.localhost", "/__admin/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: `token=${token}` });
    for (let n = 0; n < 10; n += 1) expect((await attempt(`wrong-token-number-${n}`)).status).toBe(401);
    const blocked = await attempt(TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(500);
    expect(blocked.headers["set-cookie"]).toBeUndefined();
  });
});
