// The visitor's path in a real browser (Debian's Chromium) against the stack `up` runs: landing page →
// Launch demo → starting → the demo with its time-left banner → expiry → relaunch; and the waiting line.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, VIEWPORTS } from "../support/browser.js";
import { startUp, type UpProcess } from "../support/up.js";
import { waitFor } from "../support/stack.js";

const DEMO_URL = (port: number) => new RegExp(`^http://[a-z][a-z0-9]{7}\\.demo\\.localhost:${port}/$`);

describe("the visitor's path in a real browser", () => {
  let up: UpProcess;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    up = await startUp(({ nginxPort, controllerPort, namespace }) => `namespace: ${namespace}
listen: 127.0.0.1:${controllerPort}
nginx: { listen: "127.0.0.1:${nginxPort}" }
ports: { from: 36000, to: 36999 }
limits: { maxDemos: 2, perClient: 1, queueLength: 3 }
brand: { title: "Acme CRM demo", text: "Your own copy of Acme CRM, for a few minutes.", accentColor: "#0b7a53" }
apps:
  hello:
    image: demo-launcher/hello:latest
    port: 8080
    title: Hello guestbook
    description: A tiny guestbook. Sign it; only you see your entries.
    ttl: 10m
    memory: 64m
  slow:
    image: demo-launcher/hello:latest
    port: 8080
    title: Slow starter
    description: Takes a few seconds to start.
    env: { START_DELAY: 4 }
    memory: 64m
  crashy:
    image: demo-launcher/hello:latest
    port: 8080
    title: Crashing app
    description: Exits at start.
    env: { FAIL_AT_START: 1 }
    memory: 64m
  brief:
    image: demo-launcher/hello:latest
    port: 8080
    title: Brief demo
    description: Lasts a few seconds.
    ttl: 12s
    memory: 64m
`);
    browser = await launchBrowser();
  }, 180_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    await up.stopAllDemos();
  });

  afterAll(async () => {
    await browser?.close();
    await up?.close();
  });

  async function open(options: { viewport?: keyof typeof VIEWPORTS; javaScript?: boolean } = {}): Promise<Page> {
    context = await browser.newContext({ viewport: VIEWPORTS[options.viewport ?? "desktop"], javaScriptEnabled: options.javaScript ?? true });
    const page = await context.newPage();
    await page.goto(`${up.apexUrl}/`);
    return page;
  }

  const launchButton = (page: Page, appTitle: string) => page.locator("section.card", { has: page.getByRole("heading", { name: appTitle }) }).getByRole("button", { name: "Launch demo" });

  it("lands on the demo's own subdomain showing the app, with the time left, after one click", async () => {
    const page = await open();
    await expect(page.getByRole("heading", { level: 1 })).toBeTruthy();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Acme CRM demo");
    await screenshot(page, "landing-desktop");
    await launchButton(page, "Hello guestbook").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
    // The banner nginx adds says how long the demo lasts, without covering the app.
    const banner = page.locator("[data-demo-launcher-banner]");
    await waitFor("the banner text", async () => /^Demo · (10|9) min left$/.test((await banner.locator(".text").textContent().catch(() => "")) ?? ""), 10_000);
    // The visitor's own copy works.
    await page.getByLabel("Your message").fill("Hi from Chromium");
    await page.getByRole("button", { name: "Sign" }).click();
    await page.getByText("Hi from Chromium").waitFor();
    await screenshot(page, "demo-with-banner-desktop");

    // A second click from the same visitor returns their live demo.
    const first = page.url();
    await page.goto(`${up.apexUrl}/`);
    await launchButton(page, "Hello guestbook").click();
    await page.waitForURL(first);
    await page.getByText("Hi from Chromium").waitFor();
  });

  it("works at phone width and from the keyboard alone", async () => {
    const page = await open({ viewport: "phone" });
    await screenshot(page, "landing-phone");
    // No horizontal scrolling at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.keyboard.press("Tab"); // the brand link
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Launch demo");
    await page.keyboard.press("Enter");
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
    await screenshot(page, "demo-phone");
  });

  it("works without JavaScript: the form post lands on the demo's URL, which becomes the app", async () => {
    const page = await open({ javaScript: false });
    await launchButton(page, "Hello guestbook").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
  });

  it("shows real progress while a slow app starts, then moves on to it by itself", async () => {
    const page = await open();
    await launchButton(page, "Slow starter").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "Your demo is starting" }).waitFor();
    await page.locator("li.current", { hasText: "Waiting for the app to answer" }).waitFor();
    await screenshot(page, "starting-desktop");
    // No reload from the test: the page itself moves on.
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
  });

  it("warns before the end, shows the expired page, and relaunches in one click", async () => {
    const page = await open();
    await launchButton(page, "Brief demo").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
    const expiredUrl = page.url();
    const text = page.locator("[data-demo-launcher-banner] .text");
    await waitFor("the warning", async () => /^This demo ends in \d+ s\. Your changes will be lost\.$/.test((await text.textContent().catch(() => "")) ?? ""), 10_000);
    await screenshot(page, "demo-warning-desktop");
    await page.getByRole("heading", { name: "This demo has expired" }).waitFor();
    expect(page.url()).toBe(expiredUrl);
    await screenshot(page, "expired-desktop");
    await page.getByRole("button", { name: "Launch a new demo" }).click();
    await page.waitForURL((url) => DEMO_URL(up.nginxPort).test(url.toString()) && url.toString() !== expiredUrl);
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
  });

  it("puts the visitor in line when the host is full, and starts their demo when a slot frees", async () => {
    // Two operator launches fill both slots.
    const taken = await Promise.all([up.api("POST", "/api/demos", { app: "hello" }), up.api("POST", "/api/demos", { app: "hello" })]);
    expect(taken.map((answer) => answer.status)).toEqual([201, 201]);
    const page = await open();
    await launchButton(page, "Hello guestbook").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "You are in line" }).waitFor();
    expect(await page.locator("[data-position]").textContent()).toBe("1");
    expect(await page.locator("[data-wait]").textContent()).toMatch(/^about 10 minutes$/);
    await screenshot(page, "queued-desktop");
    await up.api("DELETE", `/api/demos/${JSON.parse(taken[0]!.body).id}`);
    await page.getByRole("heading", { name: "Hello guestbook" }).waitFor();
  });

  it("says plainly when the app crashes at start, and offers a new launch", async () => {
    const page = await open();
    await launchButton(page, "Crashing app").click();
    await page.waitForURL(DEMO_URL(up.nginxPort));
    await page.getByRole("heading", { name: "This demo could not start" }).waitFor();
    expect(await page.locator("p.reason").textContent()).toBe("Reason: the app stopped while starting: it exited with code 3");
    await screenshot(page, "failed-desktop");
    expect(await page.getByRole("button", { name: "Launch a new demo" }).isVisible()).toBe(true);
  });

  it("answers a tampered launch form with a clear page, not a crash", async () => {
    const page = await open({ javaScript: false });
    await page.locator("input[name=app]").first().evaluate((input) => ((input as HTMLInputElement).value = "nope"));
    await launchButton(page, "Hello guestbook").click();
    await page.getByRole("heading", { name: "Unknown app" }).waitFor();
    expect(await page.locator("p.lead").textContent()).toBe('"nope" is not an app here; allowed: hello, slow, crashy, brief.');
    await screenshot(page, "unknown-app-desktop");
  });
});
