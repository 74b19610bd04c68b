// The console through a real nginx and controller: a sign-in whose cookie opens it, its live state streamed through
// nginx (unbuffered), and nobody coming through nginx counts as this machine. Its guards one by one: test/http/console.test.ts.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/http/console/session.js";
import { launchAndWait, type Stack, startStack, waitFor } from "../support/stack.js";

const TOKEN = "console-test-token-0123456789";

/** The session cookie's value from a sign-in's Set-Cookie. */
function sessionFrom(headers: http.IncomingHttpHeaders): string {
  const cookie = [headers["set-cookie"] ?? []].flat().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(headers["set-cookie"])}`);
  return cookie.slice(SESSION_COOKIE.length + 1).split(";")[0]!;
}

describe("the console through nginx", () => {
  let stack: Stack;
  let origin: string;
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
  }, 120_000);
  afterAll(async () => stack?.close());

  it("signs in through nginx into a cookie that opens the console", async () => {
    const session = await signIn();
    const page = await stack.viaNginx(apex, "/__admin/", { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain("Signed in as <strong>admin token</strong>");
    expect(await csrfOf(session)).toMatch(/^[\w-]{20,}$/);
  });

  it("streams the live state: a launched demo appears without a reload", async () => {
    const session = await signIn();
    const events: string[] = [];
    const req = http.request({ host: "127.0.0.1", port: stack.nginxPort, path: "/__admin/events", headers: { host: apex, cookie: `${SESSION_COOKIE}=${session}` } });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => { req.on("response", resolve); req.on("error", reject); req.end(); });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/event-stream/);
    response.on("data", (chunk: Buffer) => events.push(chunk.toString()));
    await waitFor("the first state", async () => events.join("").includes("event: state"), 30_000);
    const launched = await stack.viaNginx(apex, "/api/demos", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ app: "hello" }) });
    expect(launched.status).toBe(201);
    const { id } = JSON.parse(launched.body);
    await waitFor(`demo ${id} in the stream`, async () => events.join("").includes(`"id":"${id}"`), 30_000);
    // The session (3s) ends: the stream says so and closes.
    await waitFor("the stream to end with the session", async () => response.readableEnded || events.join("").includes("event: signed-out"), 30_000);
    req.destroy();
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
