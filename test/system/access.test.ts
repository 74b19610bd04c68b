// Who may open a demo, through a real nginx (auth_request), controller, OpenID provider (oidc-provider) and Chromium:
// a gated preview refused on every path before sign-in and served after, other domains refused, share links that end
// (on the controller's clock) and are revoked at once, a cookie of one host refused on another, a password page with
// its rate limit, and a visitor's demo kept to the browser that launched it.
import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { runRender } from "../../src/cli/commands/render.js";
import { collectingOutput } from "../../src/cli/output.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { ACCESS_COOKIE } from "../../src/http/access/host-sessions.js";
import { hashPassword } from "../../src/http/access/passwords.js";
import { launchBrowser, screenshot } from "../support/browser.js";
import { signInThroughProvider, startOidcProvider, type TestProvider } from "../support/oidc.js";
import { JumpingScheduler } from "../support/scheduler.js";
import { freePort, removePreviewImages, startStack, waitFor, type Stack } from "../support/stack.js";

const TOKEN = "access-e2e-token-0123456789";
const SOURCE = `g${Math.random().toString(36).slice(2, 8)}`;
const PASSWORD = "open sesame 42";

/** A busybox app with what browsers open: a page, a stylesheet, a JSON API, a WebSocket and an event stream. */
const APP_FILES: Record<string, string> = {
  Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCOPY www /www\nENV PATH=/bin\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n',
  "www/index.html": '<!doctype html><html><head><link rel="stylesheet" href="/app.css"></head><body><h1 id="message">Gated preview</h1></body></html>\n',
  "www/app.css": "h1 { color: #123456 }\n",
  "www/cgi-bin/api": "#!/bin/sh\nprintf 'Content-Type: application/json\\r\\n\\r\\n{\"ok\":true}'\n",
  // X-Accel-Buffering: the app asks nginx not to hold its stream, as SSE apps behind nginx do.
  "www/cgi-bin/events": "#!/bin/sh\nprintf 'Content-Type: text/event-stream\\r\\nCache-Control: no-store\\r\\nX-Accel-Buffering: no\\r\\n\\r\\ndata: tick\\n\\n'\nsleep 20\n",
  // A one-way WebSocket from a CGI script: the handshake (busybox sha1sum and base64), one text frame, then it stays.
  "www/cgi-bin/ws": "#!/bin/sh\naccept=$(printf '%s' \"${HTTP_SEC_WEBSOCKET_KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11\" | sha1sum | cut -c1-40 | sed 's/../\\\\x&/g')\naccept=$(printf \"$accept\" | base64)\nprintf 'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: %s\\r\\n\\r\\n' \"$accept\"\nprintf '\\201\\005hello'\nsleep 20\n",
};

async function makeAppRepo(dir: string): Promise<void> {
  for (const [name, content] of Object.entries(APP_FILES)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
    if (name.includes("cgi-bin")) await chmod(path.join(dir, name), 0o755);
  }
  await copyFile("/bin/busybox", path.join(dir, "busybox"));
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: dir });
  await git(["init", "-q", "-b", "main"]);
  await git(["add", "."]);
  await git(["commit", "-q", "-m", "app"]);
}

/** A WebSocket handshake through nginx: 101 when the app took it, else nginx's or the controller's status. */
function upgradeStatus(port: number, host: string, requestPath: string, cookie?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: requestPath, agent: false, headers: { host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-version": "13", ...(cookie ? { cookie } : {}) } });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

describe("who may open a demo, through nginx and Chromium", () => {
  let stack: Stack;
  let provider: TestProvider;
  let browser: Browser;
  let root: string;
  let apex: string;
  const scheduler = new JumpingScheduler();
  const previewHost = `${branchLabel(SOURCE, "main")}.demo.localhost`;
  const contexts: BrowserContext[] = [];

  const api = async (method: string, url: string, body?: unknown) => {
    const answer = await stack.viaNginx("demo.localhost", url, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: answer.status, json: answer.body ? JSON.parse(answer.body) : undefined };
  };
  const freshPage = async (): Promise<Page> => {
    const context = await browser.newContext();
    contexts.push(context);
    return context.newPage();
  };
  const hostCookie = async (page: Page, host: string) => {
    const cookie = (await page.context().cookies(`http://${host}:${stack.nginxPort}/`)).find((entry) => entry.name === ACCESS_COOKIE);
    if (!cookie) throw new Error(`no ${ACCESS_COOKIE} cookie for ${host}`);
    return `${ACCESS_COOKIE}=${cookie.value}`;
  };
  const signInAs = (page: Page, account: string) => signInThroughProvider(page, provider, account);
  const launch = async (app: string) => {
    const answer = await api("POST", "/api/demos", { app });
    expect(answer.status).toBe(201);
    const demo = answer.json as { id: string; host: string };
    await stack.controller!.engine.until(demo.id, (entry) => entry?.status === "ready", AbortSignal.timeout(60_000));
    return demo;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-e2e-access-"));
    await makeAppRepo(path.join(root, "repo"));
    const providerPort = await freePort();
    const hello = (name: string, access: string) => `  ${name}:\n    image: ${SAMPLE_IMAGE}\n    port: 8080\n    ttl: 30m\n    memory: 64m\n    pids: 64\n    readiness: { path: /, timeout: 20s }\n    access: ${access}`;
    stack = await startStack({
      extraYaml: `adminToken: ${TOKEN}
admin:
  oidc:
    issuer: http://127.0.0.1:${providerPort}
    clientId: demo-launcher-console
    clientSecret: console-client-secret-for-tests-only
    allowedEmails: [ops@example.org]
previews:
  ${SOURCE}: { repo: ${JSON.stringify(path.join(root, "repo"))}, port: 8080, readiness: { path: /, timeout: 30s }, access: { mode: signin, allow: { domains: [example.org] } } }`,
      appsYaml: [hello("locked", `{ mode: password, password: "${await hashPassword(PASSWORD)}" }`), hello("mine", "owner")].join("\n"),
      limitsYaml: "limits: { maxDemos: 20, perClient: 5 }",
      controllerOptions: { scheduler },
    });
    apex = `http://demo.localhost:${stack.nginxPort}`;
    provider = await startOidcProvider({
      port: providerPort,
      redirectUri: [`${apex}/__admin/callback`, `${apex}/__access/callback`],
      accounts: { alice: { email: "alice@example.org" }, mallory: { email: "mallory@elsewhere.test" }, ops: { email: "ops@example.org" } },
    });
    browser = await launchBrowser();
    const build = await api("POST", "/api/builds", { source: SOURCE, branch: "main" });
    expect(build.status).toBe(202);
    await waitFor("the preview to be served", async () => stack.controller!.engine.get(branchLabel(SOURCE, "main"))?.status === "ready", 180_000);
  }, 300_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await provider?.close();
    await stack?.close();
    if (stack) await removePreviewImages(stack.docker, SOURCE);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("refuses a gated preview's page, asset, API call, WebSocket and event stream before sign-in, and serves them all after", async () => {
    const page = await stack.viaNginx(previewHost, "/", { headers: { accept: "text/html" } });
    expect(page.status).toBe(401);
    expect(page.body).toContain("Sign in with 127.0.0.1");
    expect(page.body).not.toContain("Gated preview");
    for (const [requestPath, accept] of [["/app.css", "text/css"], ["/cgi-bin/api", "application/json"], ["/cgi-bin/events", "text/event-stream"]] as const) {
      const answer = await stack.viaNginx(previewHost, requestPath, { headers: { accept } });
      expect([requestPath, answer.status, answer.headers["content-type"]]).toEqual([requestPath, 401, "application/problem+json; charset=utf-8"]);
    }
    expect(await upgradeStatus(stack.nginxPort, previewHost, "/cgi-bin/ws")).toBe(401);

    const browserPage = await freshPage();
    await browserPage.goto(`http://${previewHost}:${stack.nginxPort}/docs?x=1`);
    await signInAs(browserPage, "alice");
    // Back on the preview's host, at the path the person first asked for.
    await browserPage.waitForURL(`http://${previewHost}:${stack.nginxPort}/docs?x=1`);
    await browserPage.goto(`http://${previewHost}:${stack.nginxPort}/`);
    expect(await browserPage.textContent("h1#message")).toBe("Gated preview");
    await screenshot(browserPage, "access-signed-in-preview");
    const seen = await browserPage.evaluate(async () => {
      const css = await fetch("/app.css");
      const apiAnswer = await fetch("/cgi-bin/api").then((answer) => answer.json());
      const socket = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/cgi-bin/ws`);
        ws.onmessage = (event) => (resolve(String(event.data)), ws.close());
        ws.onerror = () => reject(new Error("the WebSocket failed"));
      });
      const stream = await new Promise<string>((resolve, reject) => {
        const source = new EventSource("/cgi-bin/events");
        source.onmessage = (event) => (resolve(event.data), source.close());
        source.onerror = () => (source.close(), reject(new Error("the event stream failed")));
      });
      return { css: css.status, api: apiAnswer, socket, stream };
    });
    expect(seen).toEqual({ css: 200, api: { ok: true }, socket: "hello", stream: "tick" });
    // The same cookie outside the browser: the handshake reaches the app.
    expect(await upgradeStatus(stack.nginxPort, previewHost, "/cgi-bin/ws", await hostCookie(browserPage, previewHost))).toBe(101);
  }, 120_000);

  it("refuses a person of another domain with the reason and a host's cookie on another host; a member shares the preview and signs out", async () => {
    const page = await freshPage();
    await page.goto(`http://${previewHost}:${stack.nginxPort}/`);
    await signInAs(page, "mallory");
    await page.waitForSelector("h1");
    expect(await page.textContent("h1")).toBe("Not on this demo's list");
    expect(await page.textContent("main")).toContain("mallory@elsewhere.test may not open");
    await page.goto(`http://${previewHost}:${stack.nginxPort}/`);
    expect(await page.textContent("h1")).toBe("Sign in to open this demo");

    // Alice's cookie of the preview, presented on a password demo's host (as a demo could try to replay it).
    const alice = await freshPage();
    await alice.goto(`http://${previewHost}:${stack.nginxPort}/`);
    await signInAs(alice, "alice");
    await alice.waitForSelector("h1#message");
    const locked = await launch("locked");
    const replayed = await stack.viaNginx(locked.host, "/", { headers: { accept: "text/html", cookie: await hostCookie(alice, previewHost) } });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toContain('data-reason="other-host"');

    // A signed-in member shares the preview from its access page; without the page's token nobody can make one.
    const forged = await stack.viaNginx(previewHost, "/__demo/access/shares", { method: "POST", headers: { cookie: await hostCookie(alice, previewHost), "content-type": "application/x-www-form-urlencoded" }, body: "ttl=3d" });
    expect(forged.status).toBe(403);
    await alice.goto(`http://${previewHost}:${stack.nginxPort}/__demo/`);
    await alice.getByRole("link", { name: "Share it, or sign out" }).click();
    expect(await alice.textContent(".lead")).toContain("signed in as alice@example.org");
    await alice.fill("#note", "for the designer");
    await alice.getByRole("button", { name: "Make a share link" }).click();
    const link = await alice.locator("[data-share-link]").inputValue();
    const shares = (await api("GET", `/api/demos/${branchLabel(SOURCE, "main")}/shares`)).json.shares as Array<{ id: string; by: string; note: string }>;
    const made = shares.find((share) => share.note === "for the designer")!;
    expect(made.by).toBe("alice@example.org");
    const designer = await freshPage();
    await designer.goto(link);
    expect(await designer.textContent("h1#message")).toBe("Gated preview");
    expect((await api("DELETE", `/api/demos/${branchLabel(SOURCE, "main")}/shares/${made.id}`)).status).toBe(204);
    // Signing out ends that browser's session at once.
    await alice.goto(`http://${previewHost}:${stack.nginxPort}/__demo/access/`);
    const before = await hostCookie(alice, previewHost);
    await alice.getByRole("button", { name: /^Sign out of/ }).click();
    expect((await stack.viaNginx(previewHost, "/", { headers: { cookie: before, accept: "text/html" } })).body).toContain('data-reason="signed-out"');
  }, 120_000);

  it("opens the preview with a share link in a fresh browser until the link's end, and stops at once when it is revoked", async () => {
    const demoId = branchLabel(SOURCE, "main");
    const ending = await api("POST", `/api/demos/${demoId}/shares`, { ttl: "2m", note: "for the customer" });
    const revoked = await api("POST", `/api/demos/${demoId}/shares`, { ttl: "3d" });
    expect([ending.status, revoked.status]).toEqual([201, 201]);
    expect((await api("GET", `/api/demos/${demoId}/shares`)).json.shares.map((share: { id: string; note: string }) => [share.id, share.note])).toEqual([[ending.json.id, "for the customer"], [revoked.json.id, ""]]);

    const guest = await freshPage();
    await guest.goto(ending.json.url);
    expect(new URL(guest.url()).pathname).toBe("/");
    expect(await guest.textContent("h1#message")).toBe("Gated preview");
    const other = await freshPage();
    await other.goto(revoked.json.url);
    expect(await other.textContent("h1#message")).toBe("Gated preview");

    // The answer comes once nginx no longer lets the link's sessions in: the very next request is refused.
    expect((await api("DELETE", `/api/demos/${demoId}/shares/${revoked.json.id}`)).status).toBe(204);
    const afterRevoke = await stack.viaNginx(previewHost, "/", { headers: { accept: "text/html", cookie: await hostCookie(other, previewHost) } });
    expect([afterRevoke.status, afterRevoke.body.includes('data-reason="share-ended"')]).toEqual([401, true]);
    expect((await other.goto(`http://${previewHost}:${stack.nginxPort}/`))?.status()).toBe(401);
    expect((await other.goto(revoked.json.url))?.status()).toBe(404);
    // `render` prints the file the controller wrote, gates and all (the access file keeps each demo's).
    const rendered = collectingOutput();
    await runRender(stack.config, rendered);
    const written = await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8");
    expect(written).toMatch(new RegExp(`${previewHost.replaceAll(".", "\\.")} "s[1-9]\\d*";`));
    expect(rendered.lines).toEqual(written.split("\n").filter((line) => line.length > 0));

    // The other link's end comes on the controller's clock: two minutes later, with nothing slept.
    expect((await guest.reload())?.status()).toBe(200);
    const cookie = await hostCookie(guest, previewHost);
    scheduler.jump(2 * 60_000 + 1000);
    await waitFor("the ended link's session to be refused", async () => (await stack.viaNginx(previewHost, "/", { headers: { cookie } })).status === 401, 30_000);
    expect((await api("GET", `/api/demos/${demoId}/shares`)).json.shares).toEqual([]);
  }, 120_000);

  it("takes the right password, refuses wrong ones and then too many, and ends its sessions when the password changes", async () => {
    const locked = await launch("locked");
    const page = await stack.viaNginx(locked.host, "/", { headers: { accept: "text/html" } });
    expect(page.status).toBe(401);
    expect(page.body).toContain('name="password"');
    const post = (password: string) => stack.viaNginx(locked.host, "/__demo/access/password", { method: "POST", headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ password, to: "/" }).toString() });

    const right = await post(PASSWORD);
    expect([right.status, right.headers.location]).toEqual([303, "/"]);
    const cookie = [right.headers["set-cookie"] ?? []].flat().find((line) => line.startsWith(`${ACCESS_COOKIE}=`))!.split(";")[0]!;
    const opened = await stack.viaNginx(locked.host, "/", { headers: { cookie } });
    expect(opened.status).toBe(200);
    expect(opened.body).toContain("guestbook");

    const wrong: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) wrong.push((await post("not the password")).status);
    expect(wrong).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await post(PASSWORD)).status).toBe(429);

    // A new password through the API: the old one's sessions are out at their next request.
    expect((await api("PUT", `/api/demos/${locked.id}/access/password`, { password: "a brand new passphrase" })).status).toBe(204);
    const afterChange = await stack.viaNginx(locked.host, "/", { headers: { cookie, accept: "text/html" } });
    expect([afterChange.status, afterChange.body.includes('data-reason="password-changed"')]).toEqual([401, true]);
  }, 120_000);

  it("shows each demo's access in the console, makes a share link there with a copy button, and lists it with its time left", async () => {
    const demoId = branchLabel(SOURCE, "main");
    const page = await freshPage();
    await page.goto(`${apex}/__admin/`);
    await signInAs(page, "ops");
    await page.waitForURL(`${apex}/__admin/`);
    const row = page.locator(`[data-table="demos"] tr[data-key="${demoId}"]`);
    await row.waitFor();
    expect(await row.locator("[data-access]").textContent()).toBe("access: signin");
    await row.getByRole("button", { name: "Share" }).click();
    await page.locator("dialog[data-confirm][open]").waitFor();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("1h");
    await page.getByRole("button", { name: "Confirm" }).click();
    const link = page.locator("[data-report] input[data-copy-value]");
    await link.waitFor();
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`^http://${previewHost}:${stack.nginxPort}/__demo/access/share/`));
    expect(await page.locator("[data-report]").getByRole("button", { name: "Copy" }).count()).toBe(1);
    const share = (await api("GET", `/api/demos/${demoId}/shares`)).json.shares.find((entry: { secondsLeft: number }) => entry.secondsLeft > 3000);
    await row.locator(`[data-share="${share.id}"]`).waitFor();
    expect(await row.locator(`[data-share="${share.id}"]`).textContent()).toMatch(new RegExp(`^link ${share.id.slice(0, 6)}, (59|60) min`));
    await screenshot(page, "access-console-share");
    const guest = await freshPage();
    await guest.goto(url);
    expect(await guest.textContent("h1#message")).toBe("Gated preview");
  }, 120_000);

  it("keeps an owner's demo to the browser that launched it; another browser gets a launch button", async () => {
    const owner = await freshPage();
    await owner.goto(apex);
    await owner.locator('form:has(input[name="app"][value="mine"]) button').click();
    await owner.waitForURL((url) => url.hostname.endsWith(".demo.localhost") && url.hostname !== "demo.localhost" && url.pathname === "/");
    const host = new URL(owner.url()).hostname;
    await waitFor("the owner's demo to serve its app", async () => ((await owner.reload())?.status() === 200 && (await owner.content()).includes("guestbook")) || undefined, 60_000);

    const stranger = await freshPage();
    const answer = await stranger.goto(`http://${host}:${stack.nginxPort}/`);
    expect(answer?.status()).toBe(403);
    expect(await stranger.textContent("h1")).toBe("This demo belongs to someone else");
    await screenshot(stranger, "access-owner-refused");
    expect(await stranger.getByRole("button", { name: "Launch my own demo" }).count()).toBe(1);
  }, 120_000);
});
