// Debian's Chromium driven by playwright-core (never a downloaded browser), and screenshots for people.
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.join(PACKAGE_ROOT, "test-output", "screenshots");

export async function launchBrowser(): Promise<Browser> {
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`These tests need Debian's Chromium at ${CHROMIUM}. Run scripts/ensure-host.sh --browser (npm test does).`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // browser.newPage goes through newContext too, so every page of every test gets the retry below.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    // A step waits for what it needs on the page (a URL, a text, an element) as long as the test runs: the test's own
    // timeout is the one bound, never a per-step clock that a loaded machine overruns (CI saw a 20-s one fail).
    context.setDefaultTimeout(0);
    context.setDefaultNavigationTimeout(0);
    context.on("page", retryNavigationOnNetworkChange);
    return context;
  };
  return browser;
}

/**
 * Chromium aborts a navigation with ERR_NETWORK_CHANGED when a network interface comes or goes, and the other test
 * files' Docker networks (bridges, veths) come and go all the time on this host: such a navigation is made again
 * (CI saw one in wordpress.test.ts). Any other failure, and a third network change in a row, still fails the test.
 */
function retryNavigationOnNetworkChange(page: Page): void {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await goto(url, options);
      } catch (error) {
        if (attempt >= 3 || !(error as Error).message.includes("net::ERR_NETWORK_CHANGED")) throw error;
      }
    }
  };
}

/**
 * Follows a page's requests: what it answers is the ones sent and not finished (method, URL, seconds since sent),
 * for a failure to say what the page was still waiting on.
 */
export function unfinishedRequests(page: Page): () => string {
  const sent = new Map<import("playwright-core").Request, number>();
  page.on("request", (request) => sent.set(request, Date.now()));
  page.on("requestfinished", (request) => sent.delete(request));
  page.on("requestfailed", (request) => sent.delete(request));
  return () => [...sent].map(([request, at]) => `${request.method()} ${request.url()} (sent ${Math.round((Date.now() - at) / 1000)} s ago)`).join("\n") || "none";
}

export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Presses "Reset my demo" in the banner (the confirmation accepted) and waits for what ends the reset: the page
 * reloads when it is done, or the banner says why it did not work (then this throws with the banner's words rather
 * than waiting for a reload that never comes).
 */
export async function resetFromBanner(page: Page): Promise<void> {
  const banner = page.locator("[data-demo-launcher-banner]");
  const reset = banner.getByRole("button", { name: "Reset my demo" });
  await reset.waitFor();
  const reloaded = page.waitForEvent("load").then(() => "reloaded" as const);
  // Still waiting when the page closes after a reload: that rejection is nobody's business.
  const refused = banner
    .getByText(/The reset did not work|The reset could not start/)
    .waitFor()
    .then(async () => `the banner says: ${await banner.textContent()}`)
    .catch(() => new Promise<never>(() => {}));
  const [outcome] = await Promise.all([Promise.race([reloaded, refused]), reset.click()]);
  if (outcome !== "reloaded") throw new Error(`the reset did not reload the page: ${outcome}`);
}
