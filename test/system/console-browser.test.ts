// The operator's console in a real browser (Debian's Chromium): sign-in through a real OpenID provider (oidc-provider),
// live updates, actions, a build's live log; wrong accounts, CSRF, state/nonce, expiry and cookies planted by demos.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE, SIGN_IN_COOKIE, Signer } from "../../src/http/console/session.js";
import { launchBrowser, screenshot, VIEWPORTS } from "../support/browser.js";
import { makeWorkRepo, SERVE_DOCKERFILE } from "../support/git-repo.js";
import { signInThroughProvider, startOidcProvider, type TestProvider } from "../support/oidc.js";
import { freePort, removePreviewImages, startStack, waitFor, type Stack } from "../support/stack.js";

const TOKEN = "console-e2e-token-0123456789";
const SOURCE = `c${Math.random().toString(36).slice(2, 8)}`;
/**
 * A build that takes a few seconds and prints as it goes: its log must be seen growing. The step names this run's
 * source, so Docker's build cache (kept by an earlier run whose images were left) can never skip it.
 */
const SLOW_DOCKERFILE = SERVE_DOCKERFILE.replace("COPY index.html", `RUN ["/bin/busybox", "sh", "-c", "echo ${SOURCE}; for i in 1 2 3 4 5 6 7 8; do echo build-step-$i; /bin/busybox sleep 1; done"]\nCOPY index.html`);

describe("the operator's console in a real browser", () => {
  let stack: Stack;
  let provider: TestProvider;
  let browser: Browser;
  let root: string;
  let apex: string;
  let signer: Signer;
  const contexts: BrowserContext[] = [];

  const api = async (method: string, url: string, body?: unknown) => {
    const answer = await stack.viaNginx("demo.localhost", url, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: answer.status, json: answer.body ? JSON.parse(answer.body) : undefined };
  };
  const launch = async () => {
    const answer = await api("POST", "/api/demos", { app: "hello" });
    expect(answer.status).toBe(201);
    return answer.json as { id: string; host: string };
  };
  const newPage = async (viewport: { width: number; height: number } = VIEWPORTS.desktop): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    return context.newPage();
  };
  /** Through the provider's own login and consent pages, as a person would. */
  const signInAs = async (page: Page, account: string) => {
    await page.goto(`${apex}/__admin/`);
    expect(new URL(page.url()).pathname).toBe("/__admin/sign-in");
    await signInThroughProvider(page, provider, account);
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-e2e-console-"));
    const repo = await makeWorkRepo(path.join(root, "repo"));
    await repo.git(["checkout", "-q", "-b", "slow"]);
    await (await import("node:fs/promises")).writeFile(path.join(repo.dir, "Dockerfile"), SLOW_DOCKERFILE);
    await repo.git(["commit", "-q", "-am", "slow build"]);
    const providerPort = await freePort();
    stack = await startStack({
      extraYaml: `adminToken: ${TOKEN}
admin:
  oidc:
    issuer: http://127.0.0.1:${providerPort}
    clientId: demo-launcher-console
    clientSecret: console-client-secret-for-tests-only
    allowedEmails: [ops@example.org]
    allowedGroups: [demo-operators]
shared:
  try-it: { app: hello, reset: "0 3 * * *", timeZone: Europe/Berlin }
previews:
  ${SOURCE}: { repo: ${JSON.stringify(repo.dir)}, port: 8080, readiness: { path: /, timeout: 30s } }`,
    });
    apex = `http://demo.localhost:${stack.nginxPort}`;
    provider = await startOidcProvider({
      port: providerPort,
      redirectUri: `${apex}/__admin/callback`,
      accounts: { ops: { email: "ops@example.org" }, teammate: { email: "teammate@example.org", groups: ["demo-operators"] }, intruder: { email: "intruder@example.org", groups: ["marketing"] } },
    });
    signer = new Signer(Buffer.from((await readFile(path.join(stack.config.stateDir, "console.key"), "utf8")).trim(), "base64"), () => Date.now());
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await provider?.close();
    await stack?.close();
    if (stack) await removePreviewImages(stack.docker, SOURCE);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("signs in through the provider, shows a launched demo live, extends and stops it from the keyboard", async () => {
    const page = await newPage();
    await signInAs(page, "ops");
    await page.waitForURL(`${apex}/__admin/`);
    await expect.poll(() => page.textContent(".who")).toContain("ops@example.org");
    await page.waitForSelector(".connection.live");

    const demo = await launch();
    const row = page.locator(`tr[data-key="${demo.id}"]`);
    await row.waitFor();
    await row.locator(".state-ready").waitFor();
    const before = Date.parse((await api("GET", `/api/demos/${demo.id}`)).json.expiresAt);

    // Keyboard only: focus the button, Enter opens the dialog with its field focused, Enter confirms.
    await row.getByRole("button", { name: "Extend" }).focus();
    await page.keyboard.press("Enter");
    await page.locator("dialog[data-confirm][open]").waitFor();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("7m");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.textContent("[data-report]")).toBe(`Extended ${demo.id} by 7m.`);
    expect(Date.parse((await api("GET", `/api/demos/${demo.id}`)).json.expiresAt) - before).toBe(7 * 60_000);

    // Escape cancels, and nothing happens.
    await row.getByRole("button", { name: "Stop" }).click();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.textContent("[data-report]")).toBe(`Stop ${demo.id}: cancelled.`);
    expect((await api("GET", `/api/demos/${demo.id}`)).json.status).toBe("ready");

    await row.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.textContent("[data-report]")).toBe(`Stopped ${demo.id}.`);
    await row.waitFor({ state: "detached" });
    expect((await api("GET", `/api/demos/${demo.id}`)).json.status).toBe("stopped");
  }, 90_000);

  it("follows a build's log while it grows, and screenshots the console at desktop and phone widths", async () => {
    const page = await newPage();
    await signInAs(page, "teammate");
    await page.waitForURL(`${apex}/__admin/`);
    await expect.poll(() => page.textContent(".who")).toContain("teammate@example.org");
    const keep = await launch();
    const build = await api("POST", "/api/builds", { source: SOURCE, branch: "slow" });
    expect(build.status).toBe(202);
    const row = page.locator(`tr[data-key="${build.json.id}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: "Log" }).click();
    const log = page.locator("[data-log-text]");
    await log.filter({ hasText: "build-step-2" }).waitFor();
    const early = (await log.textContent()) ?? "";
    expect(early).not.toContain("build-step-8");
    await log.filter({ hasText: "build-step-8" }).waitFor();
    await page.keyboard.press("Escape");
    await row.locator(".state-ready").waitFor();
    await page.locator('[data-table="previews"] tr[data-key]').waitFor();
    await page.locator('[data-table="shared"] tr[data-key="try-it"] .state-ready').waitFor();
    await screenshot(page, "console-desktop");
    // On a desktop no word in a table is split over two lines ("previe/w", "hell/o": 1100 px does it with this
    // test's rows, the old style sheet and no long reason); long URLs may wrap.
    for (const width of [1100, 1280, 1400]) {
      await page.setViewportSize({ width, height: 800 });
      expect(await brokenWords(page), `at ${width} px`).toEqual([]);
    }
    // The filter's placeholder fits its field.
    expect(await page.locator("input[data-filter]").evaluate((input: HTMLInputElement) => input.scrollWidth <= input.clientWidth)).toBe(true);
    await page.setViewportSize(VIEWPORTS.phone);
    await screenshot(page, "console-phone");
    // At phone width the tables turn into cards: nothing is wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    await api("DELETE", `/api/demos/${keep.id}`);
  }, 240_000);

  it("refuses an account the config does not allow", async () => {
    const page = await newPage();
    await signInAs(page, "intruder");
    await expect.poll(() => page.textContent(".reason")).toContain("intruder@example.org may not use this console");
    await page.goto(`${apex}/__admin/`);
    expect(new URL(page.url()).pathname).toBe("/__admin/sign-in");
    expect((await page.context().cookies()).some((cookie) => cookie.name === SESSION_COOKIE)).toBe(false);
  }, 60_000);

  it("refuses a callback with a wrong state or a wrong nonce", async () => {
    const page = await newPage();
    // Stop at the callback: the provider's answers pass through the test, which keeps the redirect back to the
    // console (with an unused code) and replays it with altered values.
    let callback: string | undefined;
    // Playwright routes only the first request of a redirect chain: the provider's redirects are followed here,
    // with the context's own cookie jar, until one leaves the provider.
    await page.route(`${provider.issuer}/**`, async (route) => {
      let response = await route.fetch({ maxRedirects: 0 });
      let location = response.headers()["location"];
      while (location && new URL(location, provider.issuer).origin === provider.issuer && response.status() >= 300 && response.status() < 400) {
        const next = await page.context().request.get(new URL(location, provider.issuer).href, { maxRedirects: 0 });
        if (next.status() < 300 || next.status() >= 400) return route.fulfill({ status: 303, headers: { location: new URL(location, provider.issuer).href } });
        response = next;
        location = next.headers()["location"];
      }
      if (location?.startsWith(`${apex}/__admin/callback`)) {
        callback = location;
        return route.fulfill({ status: 200, contentType: "text/plain", body: "held by the test" });
      }
      return route.fulfill({ response });
    });
    await signInAs(page, "ops").catch(() => {}); // it stops at the held callback
    await waitFor("the provider's callback", async () => callback, 20_000);
    await page.unroute(`${provider.issuer}/**`);
    const wrongState = new URL(callback!);
    wrongState.searchParams.set("state", "not-the-state-we-sent");
    await page.goto(wrongState.href);
    await expect.poll(() => page.textContent(".reason")).toContain("does not belong to the sign-in started in this browser");
    // The same state and PKCE verifier, but a nonce the provider never saw: the ID token does not match it.
    const cookies = await page.context().cookies(apex);
    const pending = JSON.parse(Buffer.from(cookies.find((cookie) => cookie.name === SIGN_IN_COOKIE)!.value.split(".")[0]!, "base64url").toString());
    await page.context().addCookies([{ name: SIGN_IN_COOKIE, value: signer.sign("sign-in", { ...pending, nonce: "a-nonce-nobody-sent" }), url: "https://demo.localhost", secure: true, httpOnly: true, sameSite: "Lax" }]);
    await page.goto(callback!);
    await expect.poll(() => page.textContent(".reason")).toMatch(/did not check out.*nonce/i);
    await page.goto(`${apex}/__admin/`);
    expect(new URL(page.url()).pathname).toBe("/__admin/sign-in");
  }, 60_000);

  it("refuses actions without the session's CSRF token, from the console's page and from a demo's page", async () => {
    const page = await newPage();
    await signInAs(page, "ops");
    await page.waitForURL(`${apex}/__admin/`);
    const demo = await launch();
    await waitFor(`${demo.id} to be ready`, async () => (await api("GET", `/api/demos/${demo.id}`)).json.status === "ready");
    const statusOf = (headers: Record<string, string>) =>
      page.evaluate(async ({ id, headers }) => (await fetch(`/api/demos/${id}`, { method: "DELETE", headers })).status, { id: demo.id, headers });
    expect(await statusOf({})).toBe(403);
    expect(await statusOf({ "x-csrf-token": "forged" })).toBe(403);
    // A demo's page is on a sibling host (same site): its requests carry the console's cookie only if SameSite lets them, and never the token.
    const demoPage = await page.context().newPage();
    await demoPage.goto(`http://${demo.host}:${stack.nginxPort}/`);
    await demoPage.evaluate(async (url) => {
      await fetch(url, { method: "DELETE", credentials: "include", mode: "no-cors" }).catch(() => {});
      const form = document.createElement("form");
      form.method = "post";
      form.action = url.replace(/\/api\/demos\/.*/, "/__admin/sign-out");
      document.body.append(form);
    }, `${apex}/api/demos/${demo.id}`);
    expect((await api("GET", `/api/demos/${demo.id}`)).json.status).toBe("ready");
    await page.reload();
    await expect.poll(() => page.textContent(".who")).toContain("ops@example.org");
    await api("DELETE", `/api/demos/${demo.id}`);
  }, 60_000);

  it("ignores cookies a demo's page sets for the parent domain", async () => {
    const demo = await launch();
    const signedIn = await newPage();
    await signInAs(signedIn, "ops");
    await signedIn.waitForURL(`${apex}/__admin/`);
    for (const page of [signedIn, await newPage()]) {
      const demoPage = await page.context().newPage();
      await demoPage.goto(`http://${demo.host}:${stack.nginxPort}/`);
      await demoPage.evaluate((session) => {
        document.cookie = `dl-session=${session}; domain=demo.localhost; path=/`;
        document.cookie = `__Host-dl-session=${session}; domain=demo.localhost; path=/; secure`;
        document.cookie = `__host-dl-session=${session}; domain=demo.localhost; path=/; secure`;
      }, "planted.by-a-demo");
      // The planted cookie does reach the apex (the risk is real)…
      const apexPage = await page.context().newPage();
      await apexPage.goto(`${apex}/`);
      expect(await apexPage.evaluate(() => document.cookie)).toContain("dl-session=planted.by-a-demo");
      // …and changes nothing: the signed-in console stays the same person, the other one is asked to sign in.
      await page.goto(`${apex}/__admin/`);
      if (page === signedIn) await expect.poll(() => page.textContent(".who")).toContain("ops@example.org");
      else expect(new URL(page.url()).pathname).toBe("/__admin/sign-in");
    }
    await api("DELETE", `/api/demos/${demo.id}`);
  }, 60_000);

  it("sends the page to the sign-in when its session expires", async () => {
    const page = await newPage();
    const { value } = signer.newSession("ops@example.org", "oidc", 4000);
    // CDP takes a Secure cookie only for an https URL; the browser still sends it to http://demo.localhost (a secure context).
    await page.context().addCookies([{ name: SESSION_COOKIE, value, url: "https://demo.localhost", secure: true, httpOnly: true, sameSite: "Strict" }]);
    await page.goto(`${apex}/__admin/`);
    await page.waitForSelector(".connection.live");
    // Polled, not waitForURL: a navigation the page starts while another is under way is reported as aborted.
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 25_000 }).toBe("/__admin/sign-in");
    await expect.poll(() => page.textContent("h1")).toBe("Sign in to the console");
  }, 30_000);
});

/** Words of up to 20 characters in the page's table cells that the browser laid out over more than one line. */
function brokenWords(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const broken: string[] = [];
    for (const cell of document.querySelectorAll("td")) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of (node.textContent ?? "").matchAll(/\S+/g)) {
          if (match[0].length > 20) continue;
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          if (new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size > 1) broken.push(match[0]);
        }
      }
    }
    return broken;
  });
}
