// The console's sign-in and guards (fastify.inject on in-memory edges, manual time): token sessions, cookies, CSRF,
// origins, hosts, the local operator and the lock-out after wrong tokens. The live stream through nginx: test/system.
import { afterEach, describe, expect, it } from "vitest";
import { publicOrigin } from "../../src/http/context.js";
import { SESSION_COOKIE, Signer } from "../../src/http/console/session.js";
import { cookieFrom, httpApp, type HttpApp } from "../support/http-app.js";
import { readFile } from "node:fs/promises";
import path from "node:path";

const TOKEN = "console-test-token-0123456789";
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const VISITOR = "203.0.113.9";

describe("the console's sign-in and guards", () => {
  let app: HttpApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function withToken(extra = "") {
    app = await httpApp(`adminToken: ${TOKEN}\nadmin: { session: 3s }\n${extra}`);
    const origin = publicOrigin(app.config, app.config.admin.host ?? app.config.domain);
    const host = app.config.admin.host ?? "demo.localhost";
    const signIn = async () => {
      const answer = await app!.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, host, origin }, payload: `token=${TOKEN}` });
      expect(answer.statusCode).toBe(303);
      return cookieFrom(answer.headers, SESSION_COOKIE);
    };
    const get = (url: string, session?: string, headers: Record<string, string> = {}) => app!.viaNginx(VISITOR, { method: "GET", url, headers: { host, ...(session ? { cookie: `${SESSION_COOKIE}=${session}` } : {}), ...headers } });
    const csrfOf = async (session: string) => /name="csrf-token" content="([^"]+)"/.exec((await get("/__admin/", session)).body)![1]!;
    return { app, origin, host, signIn, get, csrfOf };
  }

  it("signs in with the token into a __Host- cookie that is Secure, HttpOnly, SameSite and expires", async () => {
    const { app, origin, get } = await withToken();
    const answer = await app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: `token=${TOKEN}` });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/__admin/");
    const cookie = String([answer.headers["set-cookie"]].flat().find((line) => String(line).startsWith(SESSION_COOKIE)));
    expect(cookie).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=3$/);
    expect(cookie).not.toMatch(/Domain=/i);
    const page = await get("/__admin/", cookieFrom(answer.headers, SESSION_COOKIE));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Signed in as <strong>admin token</strong>");
  });

  it("refuses a wrong token, and sends console URLs without a session to the sign-in", async () => {
    const { app, origin, get } = await withToken();
    const wrong = await app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: "token=not-the-token-at-all" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    for (const url of ["/__admin/", "/__admin"]) expect([303, 308]).toContain((await get(url)).statusCode);
    expect((await get("/__admin/")).headers.location).toBe("/__admin/sign-in");
    const state = await get("/__admin/state");
    expect(state.statusCode).toBe(401);
    expect(state.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("refuses forged, expired and signed-out sessions; a session ends by itself when its time is up", async () => {
    const { app, origin, signIn, get, csrfOf } = await withToken();
    const session = await signIn();
    const [body, signature] = session.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as { exp: number };
    const forged = `${Buffer.from(JSON.stringify({ ...claims, who: "mallory" })).toString("base64url")}.${signature}`;
    expect((await get("/__admin/", forged)).statusCode).toBe(303);
    // Correctly signed with the controller's own key, but past its end.
    const signer = new Signer(Buffer.from((await readFile(path.join(app.config.stateDir, "console.key"), "utf8")).trim(), "base64"), () => app.scheduler.now());
    expect((await get("/__admin/", signer.sign("session", { ...claims, exp: app.scheduler.now() - 1000 }))).statusCode).toBe(303);
    expect((await get("/__admin/", signer.sign("session", { ...claims, exp: app.scheduler.now() + 60_000 }))).statusCode).toBe(200);
    // A value signed for another purpose (the sign-in's pending state) is no session.
    expect((await get("/__admin/", signer.sign("sign-in", { ...claims, exp: app.scheduler.now() + 60_000 }))).statusCode).toBe(303);
    // admin.session is 3 s here: open just before, closed just after.
    await app.scheduler.advanceTo(claims.exp - 1);
    expect((await get("/__admin/", session)).statusCode).toBe(200);
    await app.scheduler.advanceTo(claims.exp + 1);
    expect((await get("/__admin/", session)).statusCode).toBe(303);
    // Signing out ends a session before its time.
    const fresh = await signIn();
    const out = await app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-out", headers: { ...FORM, origin, cookie: `${SESSION_COOKIE}=${fresh}` }, payload: `csrf=${await csrfOf(fresh)}` });
    expect(out.statusCode).toBe(303);
    expect((await get("/__admin/", fresh)).statusCode).toBe(303);
  });

  it("refuses an action without the session's CSRF token or from another origin, and does it with both", async () => {
    const { app, origin, signIn, csrfOf } = await withToken();
    const { demo } = await app.engine.launch("hello", "someone");
    await app.settled();
    const session = await signIn();
    const csrf = await csrfOf(session);
    const extend = (headers: Record<string, string>) => app.viaNginx(VISITOR, { method: "POST", url: `/api/demos/${demo.id}/extend`, headers: { "content-type": "application/json", cookie: `${SESSION_COOKIE}=${session}`, ...headers }, payload: { by: "5m" } });
    const before = demo.expiresAt;
    expect((await extend({ origin })).statusCode).toBe(403);
    expect((await extend({ origin, "x-csrf-token": "x".repeat(43) })).statusCode).toBe(403);
    // A demo's page is a sibling origin: same site, still not the console.
    expect((await extend({ origin: publicOrigin(app.config, demo.host), "x-csrf-token": csrf })).statusCode).toBe(403);
    // Another session's token does not fit this one.
    expect((await extend({ origin, "x-csrf-token": await csrfOf(await signIn()) })).statusCode).toBe(403);
    expect(app.engine.get(demo.id)!.expiresAt).toBe(before);
    const done = await extend({ origin, "x-csrf-token": csrf });
    expect(done.statusCode).toBe(200);
    expect(Date.parse(done.json().expiresAt) - before).toBe(5 * 60_000);
    // The bearer token keeps working for the API and the CLI, without cookies or CSRF.
    const bearer = await app.viaNginx(VISITOR, { method: "POST", url: `/api/demos/${demo.id}/extend`, headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, payload: { by: "1m" } });
    expect(bearer.statusCode).toBe(200);
  });

  it("shows nothing of the console on a demo's host, and ignores cookies a demo could set", async () => {
    const { app, signIn, get } = await withToken();
    const { demo } = await app.engine.launch("hello", "someone");
    await app.settled();
    const session = await signIn();
    for (const url of ["/__admin/", "/__admin/sign-in", "/__admin/state", "/__admin/events", "/__admin/console.js"]) {
      for (const host of [demo.host, "nosuchdemo.demo.localhost"]) {
        const answer = await app.viaNginx(VISITOR, { method: "GET", url, headers: { host, cookie: `${SESSION_COOKIE}=${session}` } });
        expect(answer.body, `${host}${url}`).not.toMatch(/csrf-token|"health"|Signed in as|EventSource/);
      }
    }
    // What a demo's page can set for the parent domain: other names, or our name without the prefix's guarantees.
    for (const planted of [`dl-session=${session}`, `__host-dl-session=${session}`, `${SESSION_COOKIE}=forged.value`, `${SESSION_COOKIE}=${session}; ${SESSION_COOKIE}=forged.value`]) {
      expect((await get("/__admin/", undefined, { cookie: planted })).statusCode, planted).toBe(303);
    }
  });

  it("says in its health line when HTTPS renewals fail, with the certificate's end, and nothing of HTTPS without tls:", async () => {
    const report = { mode: "acme", updatedAt: "2026-12-07T00:00:00.000Z", certificate: { names: ["demo.localhost", "*.demo.localhost"], issuer: "CN=Some CA", notBefore: "2026-12-01T00:00:00.000Z", notAfter: "2099-01-01T00:00:00.000Z" }, nextRenewalAt: "2026-12-07T00:02:00.000Z", failures: 2, lastError: { message: "the certificate for demo.localhost, *.demo.localhost was not issued by https://ca.example/dir: connect ECONNREFUSED", at: "2026-12-07T00:00:00.000Z" } };
    app = await httpApp(`adminToken: ${TOKEN}`, { deps: () => ({ status: async () => ({ tls: report }) }) });
    const origin = publicOrigin(app.config, "demo.localhost");
    const signedIn = await app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: `token=${TOKEN}` });
    const state = await app.viaNginx(VISITOR, { method: "GET", url: "/__admin/state", headers: { cookie: `${SESSION_COOKIE}=${cookieFrom(signedIn.headers, SESSION_COOKIE)}` } });
    expect(state.json().state.health.tls).toEqual({ name: "tls", ok: "warn", notAfter: "2099-01-01T00:00:00.000Z", detail: `demo.localhost, *.demo.localhost from CN=Some CA, until 2099-01-01T00:00:00.000Z; renewal failing (2 in a row, next try 2026-12-07T00:02:00.000Z): ${report.lastError.message}` });
    // The page shows it (the console's script renders health.tls as its own line).
    expect(await readFile(path.join(process.cwd(), "templates/assets/console.js"), "utf8")).toContain('"HTTPS: "');
    await app.close();
    app = await httpApp(`adminToken: ${TOKEN}`);
    const plainState = await app.viaNginx(VISITOR, { method: "GET", url: "/__admin/state", headers: { cookie: `${SESSION_COOKIE}=${cookieFrom((await app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: `token=${TOKEN}` })).headers, SESSION_COOKIE)}` } });
    expect(plainState.json().state.health.tls).toBeUndefined();
  });

  it("on a host of its own (admin.host) is served there only, with its cookie for that host", async () => {
    app = await httpApp(`adminToken: ${TOKEN}\nadmin: { host: ops.example.test }`);
    const own = app;
    const at = (host: string, url: string, headers: Record<string, string> = {}, method = "GET", payload?: string) => own.viaNginx(VISITOR, { method: method as "GET", url, headers: { host, ...headers }, ...(payload ? { payload } : {}) });
    expect((await at("demo.localhost", "/__admin/sign-in")).statusCode).toBe(404);
    expect((await at("demo.localhost", "/__admin/")).statusCode).toBe(404);
    expect((await at("ops.example.test", "/")).headers.location).toBe("/__admin/");
    expect((await at("ops.example.test", "/__admin/sign-in")).statusCode).toBe(200);
    const opsOrigin = publicOrigin(own.config, "ops.example.test");
    // The apex's origin is a stranger to this console.
    expect((await at("ops.example.test", "/__admin/sign-in", { ...FORM, origin: publicOrigin(own.config, "demo.localhost") }, "POST", `token=${TOKEN}`)).statusCode).toBe(403);
    const signedIn = await at("ops.example.test", "/__admin/sign-in", { ...FORM, origin: opsOrigin }, "POST", `token=${TOKEN}`);
    expect(signedIn.statusCode).toBe(303);
    const session = cookieFrom(signedIn.headers, SESSION_COOKIE);
    const state = await at("ops.example.test", "/__admin/state", { cookie: `${SESSION_COOKIE}=${session}` });
    expect(state.statusCode).toBe(200);
    expect(Object.keys(state.json().state)).toEqual(["apps", "demos", "queue", "pools", "builds", "previews", "shared", "deliveries", "health"]);
    // The same cookie sent to the apex opens nothing there.
    expect((await at("demo.localhost", "/__admin/state", { cookie: `${SESSION_COOKIE}=${session}` })).statusCode).toBe(404);
    expect((await at("demo.localhost", "/api/demos", { cookie: `${SESSION_COOKIE}=${session}` })).statusCode).toBe(401);
  });

  it("without a token or a provider, opens for this machine only; a page of another origin cannot use the API", async () => {
    app = await httpApp("");
    const local = app;
    const direct = (method: string, url: string, headers: Record<string, string> = {}, payload?: string) => local.inject({ method: method as "GET", url, remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081", ...headers }, ...(payload ? { payload } : {}) });
    expect((await direct("GET", "/__admin/sign-in")).body).toContain("Open the console");
    // Through nginx nobody is "this machine": no button, and the form refuses.
    expect((await local.viaNginx(VISITOR, { method: "GET", url: "/__admin/sign-in" })).body).toContain("Signing in is not set up here");
    const refused = await local.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin: publicOrigin(local.config, "demo.localhost") }, payload: "local=1" });
    expect(refused.statusCode).toBe(401);
    const signedIn = await direct("POST", "/__admin/sign-in", { ...FORM, origin: "http://127.0.0.1:8081" }, "local=1");
    expect(signedIn.statusCode).toBe(303);
    expect((await direct("GET", "/__admin/", { cookie: `${SESSION_COOKIE}=${cookieFrom(signedIn.headers, SESSION_COOKIE)}` })).body).toContain("Signed in as <strong>this machine</strong>");
    const { demo } = await local.engine.launch("hello", "someone");
    await local.settled();
    // A page from elsewhere, posting to the controller on 127.0.0.1 with the operator's browser, is not the operator.
    expect((await direct("DELETE", `/api/demos/${demo.id}`, { origin: "http://attacker.example" })).statusCode).toBe(401);
    expect(local.engine.get(demo.id)?.status).toBe("ready");
    expect((await direct("DELETE", `/api/demos/${demo.id}`)).statusCode).toBe(204);
  });

  it("refuses wrong tokens in the sign-in form, and after 10 the visitor waits, even with the right one", async () => {
    const { app, origin } = await withToken();
    const attempt = (token: string) => app.viaNginx(VISITOR, { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: `token=${token}` });
    for (let n = 0; n < 10; n += 1) expect((await attempt(`wrong-token-number-${n}`)).statusCode).toBe(401);
    const blocked = await attempt(TOKEN);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(500);
    expect(blocked.headers["set-cookie"]).toBeUndefined();
    // Another visitor is not locked out by this one's guesses.
    expect((await app.viaNginx("203.0.113.10", { method: "POST", url: "/__admin/sign-in", headers: { ...FORM, origin }, payload: `token=${TOKEN}` })).statusCode).toBe(303);
  });
});
