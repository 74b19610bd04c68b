// Gated demos over HTTP (fastify.inject on in-memory edges, manual time): nginx's check, share links and their API,
// owner launches and their one-time codes, passwords, and the guards around them. Through nginx and Chromium: test/system/access.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { startAccessDesk } from "../../src/app/access.js";
import { HOLD_WHILE_STARTING_MS } from "../../src/http/access/gate.js";
import { ACCESS_COOKIE } from "../../src/http/access/host-sessions.js";
import { silentLogger } from "../../src/logger.js";
import { cookieFrom, httpApp, type HttpApp } from "../support/http-app.js";

const TOKEN = "access-http-token-0123456789";
const VISITOR = "203.0.113.9";
const ADMIN = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const ADMIN_NO_BODY = { authorization: `Bearer ${TOKEN}` };
const APPS = `apps:
  hello: { image: img, port: 8080, readiness: { path: /, timeout: 5s } }
  mine: { image: img, port: 8080, readiness: { path: /, timeout: 5s }, access: owner }
  locked: { image: img, port: 8080, readiness: { path: /, timeout: 5s }, access: password }
`;

describe("gated demos over HTTP", () => {
  let app: HttpApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function gatedApp() {
    const made = await httpApp(`adminToken: ${TOKEN}\n${APPS}`, {
      deps: async ({ engine, config, scheduler }) => ({ access: (await startAccessDesk(config, () => engine, scheduler, silentLogger)).desk }),
    });
    app = made;
    const launch = async (name: string) => {
      const answer = await made.viaNginx(VISITOR, { method: "POST", url: "/api/demos", headers: ADMIN, payload: { app: name } });
      expect(answer.statusCode).toBe(201);
      await made.settled();
      return answer.json() as { id: string; host: string; url: string; entryUrl?: string };
    };
    const onHost = (host: string, url: string, headers: Record<string, string> = {}) => made.viaNginx(VISITOR, { method: "GET", url, headers: { host, ...headers } });
    return { app: made, launch, onHost };
  }

  it("answers nginx's check with 401 until a share link sets the host's cookie, then 200 for a few seconds at most", async () => {
    const { app, launch, onHost } = await gatedApp();
    const locked = await launch("locked");
    expect((await onHost(locked.host, "/__demo/access/check")).statusCode).toBe(401);
    const made = await app.viaNginx(VISITOR, { method: "POST", url: `/api/demos/${locked.id}/shares`, headers: ADMIN, payload: { ttl: "1h", note: "for the customer" } });
    expect(made.statusCode).toBe(201);
    const share = made.json() as { id: string; url: string; secondsLeft: number; note: string };
    expect([share.secondsLeft, share.note, share.url.startsWith(`http://${locked.host}:8080/__demo/access/share/`)]).toEqual([3600, "for the customer", true]);

    const opened = await onHost(locked.host, new URL(share.url).pathname);
    expect([opened.statusCode, opened.headers.location]).toEqual([303, "/"]);
    const cookie = `${ACCESS_COOKIE}=${cookieFrom(opened.headers, ACCESS_COOKIE)}`;
    expect(String([opened.headers["set-cookie"]].flat()[0])).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const check = await onHost(locked.host, "/__demo/access/check", { cookie });
    expect([check.statusCode, check.headers["x-accel-expires"]]).toEqual([200, "5"]);
    // The same cookie on another gated demo's host is nobody's.
    const other = await launch("locked");
    expect((await onHost(other.host, "/__demo/access/check", { cookie })).statusCode).toBe(401);
    // The controller's own pages of the gated host are gated too, not only the app's.
    const status = await onHost(locked.host, "/__demo/status.json", { accept: "application/json" });
    expect([status.statusCode, status.headers["content-type"]]).toEqual([401, "application/problem+json; charset=utf-8"]);
    expect((await onHost(locked.host, "/__demo/status.json", { cookie })).statusCode).toBe(200);

    const listed = await app.viaNginx(VISITOR, { method: "GET", url: `/api/demos/${locked.id}/shares`, headers: ADMIN_NO_BODY });
    expect(listed.json()).toMatchObject({ access: "password", shares: [{ id: share.id, note: "for the customer", by: "admin token" }] });
    expect((await app.viaNginx(VISITOR, { method: "DELETE", url: `/api/demos/${locked.id}/shares/${share.id}`, headers: ADMIN_NO_BODY })).statusCode).toBe(204);
    expect((await onHost(locked.host, "/__demo/access/check", { cookie })).statusCode).toBe(401);
    expect((await onHost(locked.host, new URL(share.url).pathname)).statusCode).toBe(404);
  });

  it("holds nginx's check for a demo routed before its app answers until it does (then yes) or for a moment (then no: the starting page)", async () => {
    const { app, onHost } = await gatedApp();
    app.answering.clear();
    const answer = await app.viaNginx(VISITOR, { method: "POST", url: "/api/demos", headers: ADMIN, payload: { app: "hello" } });
    const demo = answer.json() as { id: string; host: string };
    await app.scheduler.settle();
    // Routed behind the gate while its app starts: nginx's check waits for the app a moment, then says no, and the
    // host shows the starting page.
    expect(app.writes.at(-1)!.find((route) => route.id === demo.id)).toMatchObject({ gate: "w0" });
    const asked = app.scheduler.now();
    expect((await app.scheduler.runUntil(onHost(demo.host, "/__demo/access/check"))).statusCode).toBe(401);
    expect(app.scheduler.now() - asked).toBe(HOLD_WHILE_STARTING_MS);
    expect((await onHost(demo.host, "/")).statusCode).toBe(503);
    // A check that waits is let through at the probe that finds the app answering, before its wait is over.
    const waiting = onHost(demo.host, "/__demo/access/check");
    await app.scheduler.settle();
    const answered = app.scheduler.now();
    app.answering.add(Number(app.engine.get(demo.id)!.instances[0]!.endpoint!.split(":")[1]));
    const check = await app.scheduler.runUntil(waiting);
    expect([check.statusCode, check.headers["x-accel-expires"], app.engine.get(demo.id)!.status]).toEqual([200, "5", "ready"]);
    expect(app.scheduler.now() - answered).toBeLessThan(HOLD_WHILE_STARTING_MS);
  });

  it("refuses share links for public demos, bad durations and strangers, each with its reason", async () => {
    const { app, launch } = await gatedApp();
    const open = await launch("hello");
    const locked = await launch("locked");
    const post = (id: string, payload: unknown, headers: Record<string, string> = ADMIN) => app.viaNginx(VISITOR, { method: "POST", url: `/api/demos/${id}/shares`, headers, payload: payload as object });
    const publicAnswer = await post(open.id, { ttl: "1h" });
    expect([publicAnswer.statusCode, publicAnswer.json().detail]).toEqual([409, expect.stringContaining("is public")]);
    for (const ttl of ["forever", "30s", "31d", 5]) {
      const answer = await post(locked.id, { ttl });
      expect([answer.statusCode, answer.json().detail]).toEqual([400, expect.stringContaining('"ttl" must be a duration from 1m to 30d')]);
    }
    expect((await post(locked.id, { ttl: "1h", colour: "blue" })).json().detail).toBe('Unknown field "colour"; allowed: ttl, note, uses.');
    expect((await post(locked.id, { ttl: "1h", uses: 0 })).json().detail).toContain('"uses" must be a whole number from 1 to 1000');
    // A one-time link: the first browser gets in (until the link's end); the second finds it spent.
    const once = (await post(locked.id, { ttl: "1h", uses: 1 })).json() as { url: string; usesLeft: number };
    expect(once.usesLeft).toBe(1);
    const first = await app.viaNginx(VISITOR, { method: "GET", url: new URL(once.url).pathname, headers: { host: locked.host } });
    const second = await app.viaNginx(VISITOR, { method: "GET", url: new URL(once.url).pathname, headers: { host: locked.host } });
    expect([first.statusCode, second.statusCode]).toEqual([303, 404]);
    expect((await app.viaNginx(VISITOR, { method: "GET", url: "/__demo/access/check", headers: { host: locked.host, cookie: `${ACCESS_COOKIE}=${cookieFrom(first.headers, ACCESS_COOKIE)}` } })).statusCode).toBe(200);
    expect((await post(locked.id, { ttl: "1h" }, { "content-type": "application/json" })).statusCode).toBe(401);
    expect((await app.viaNginx(VISITOR, { method: "DELETE", url: `/api/demos/${locked.id}/shares/0123456789ab`, headers: ADMIN_NO_BODY })).statusCode).toBe(404);
    expect((await post("nosuchdemo", { ttl: "1h" })).statusCode).toBe(404);
  });

  it("gives the launching browser of an owner's demo a one-time link; the demo's view never shows it", async () => {
    const { app, launch, onHost } = await gatedApp();
    const mine = await launch("mine");
    expect(mine.entryUrl).toMatch(new RegExp(`^http://${mine.host}:8080/__demo/access/finish\\?code=[A-Za-z0-9_-]{32}$`));
    const view = await app.viaNginx(VISITOR, { method: "GET", url: `/api/demos/${mine.id}`, headers: ADMIN_NO_BODY });
    expect(JSON.stringify(view.json())).not.toContain("code=");
    const code = new URL(mine.entryUrl!).search;
    // On another host, the code is spent and opens nothing; a fresh code works once, on its own host.
    const other = await launch("mine");
    expect((await onHost(other.host, `/__demo/access/finish${code}`)).statusCode).toBe(400);
    expect((await onHost(mine.host, `/__demo/access/finish${code}`)).statusCode).toBe(400);
    const again = await app.viaNginx(VISITOR, { method: "POST", url: "/launch", headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, payload: "app=mine" });
    // The form's launch answers with the link too (the visitor's own demo, a new one here).
    const entry = new URL(String(again.headers.location));
    expect([again.statusCode, entry.pathname]).toEqual([303, "/__demo/access/finish"]);
    // A way back to a path of this host only: never to another site.
    const finished = await onHost(entry.hostname, `${entry.pathname}${entry.search}&to=${encodeURIComponent("//evil.test/x")}`);
    expect([finished.statusCode, finished.headers.location]).toEqual([303, "/"]);
    const cookie = `${ACCESS_COOKIE}=${cookieFrom(finished.headers, ACCESS_COOKIE)}`;
    expect((await onHost(entry.hostname, "/__demo/access/check", { cookie })).statusCode).toBe(200);
    expect((await onHost(other.host, "/__demo/access/check", { cookie })).statusCode).toBe(401);
    // The same address launching again (another browser behind one NAT, say) gets the demo's plain address only.
    const repeated = await app.viaNginx(VISITOR, { method: "POST", url: "/launch", headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, payload: "app=mine" });
    expect(repeated.headers.location).toBe(`http://${entry.hostname}:8080/`);
    const stranger = await onHost(entry.hostname, "/", { accept: "text/html" });
    expect([stranger.statusCode, stranger.body.includes("This demo belongs to someone else"), stranger.body.includes('value="mine"')]).toEqual([403, true, true]);
  });

  it("sets a demo's own password through the API and refuses it where the demo is not opened by one", async () => {
    const { app, launch, onHost } = await gatedApp();
    const locked = await launch("locked");
    const form = { "content-type": "application/x-www-form-urlencoded", accept: "text/html" };
    const before = await app.viaNginx(VISITOR, { method: "POST", url: "/__demo/access/password", headers: { ...form, host: locked.host }, payload: "password=anything-at-all" });
    expect([before.statusCode, before.body.includes("none is set yet")]).toEqual([401, true]);
    const put = (id: string, payload: unknown) => app.viaNginx(VISITOR, { method: "PUT", url: `/api/demos/${id}/access/password`, headers: ADMIN, payload: payload as object });
    expect((await put(locked.id, { password: "short" })).json().detail).toBe('"password" must be text of 8 to 1024 characters.');
    expect((await put(locked.id, { password: "a long passphrase" })).statusCode).toBe(204);
    const right = await app.viaNginx(VISITOR, { method: "POST", url: "/__demo/access/password", headers: { ...form, host: locked.host }, payload: "password=a+long+passphrase&to=%2Fnotes%3Fx%3D1" });
    expect([right.statusCode, right.headers.location]).toEqual([303, "/notes?x=1"]);
    expect((await onHost(locked.host, "/__demo/access/check", { cookie: `${ACCESS_COOKIE}=${cookieFrom(right.headers, ACCESS_COOKIE)}` })).statusCode).toBe(200);
    const mine = await launch("mine");
    expect((await put(mine.id, { password: "a long passphrase" })).statusCode).toBe(409);
  });
});
