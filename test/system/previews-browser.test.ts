// A preview in a real browser (Debian's Chromium), built from examples/node-app (FROM the local Debian base image):
// the preview URL of an unbuilt branch shows the build's log growing, then the app; a push to the branch switches
// its host to the new commit with no failed request.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { launchBrowser, screenshot } from "../support/browser.js";
import { startLoad } from "../support/load.js";
import { startStack, waitFor, type Stack } from "../support/stack.js";

const SOURCE = `e${Math.random().toString(36).slice(2, 8)}`;
const BRANCH = "feature/greeting";

describe("a preview in a real browser", () => {
  let root: string;
  let work: string;
  let stack: Stack;
  let browser: Browser;
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: work });

  beforeAll(async () => {
    await execa("bash", [path.join(PACKAGE_ROOT, "scripts/ensure-base-image.sh")], { stdio: "inherit" });
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-e2e-previews-"));
    work = path.join(root, "node-app");
    await cp(path.join(PACKAGE_ROOT, "examples/node-app"), work, { recursive: true });
    await git(["init", "-q", "-b", "main"]);
    await git(["add", "."]);
    await git(["commit", "-q", "-m", "node-app"]);
    await git(["checkout", "-q", "-b", BRANCH]);
    stack = await startStack({
      nginxYaml: "  drain: 2s",
      extraYaml: `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(work)}, port: 3000, readiness: { path: /healthz, timeout: 30s }, refresh: 1s }`,
    });
    browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    const images = await stack?.docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${SOURCE}`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("shows the build's log growing, lands on the app, and follows a push with no failed request", async () => {
    const page = await browser.newPage();
    const branchHost = `${branchLabel(SOURCE, BRANCH)}.demo.localhost`;
    // Every change of the build log's text, as the page makes it (a DOM observer in each document the tab loads,
    // reporting here): the log grows while the page is open (server-sent events), then the page turns into the app.
    const lengths = new Set<number>();
    await page.exposeFunction("reportBuildLogLength", (length: number) => lengths.add(length));
    await page.addInitScript(() => {
      const report = (window as unknown as { reportBuildLogLength: (length: number) => void }).reportBuildLogLength;
      let last = -1;
      new MutationObserver(() => {
        const length = document.querySelector("[data-build-log]")?.textContent?.length ?? -1;
        if (length >= 0 && length !== last) report((last = length));
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    await page.goto(`http://demo.localhost:${stack.nginxPort}/preview?source=${SOURCE}&branch=${encodeURIComponent(BRANCH)}`);
    expect(new URL(page.url()).host).toBe(`${branchHost}:${stack.nginxPort}`);
    await page.waitForSelector("[data-build-log]");
    await screenshot(page, "preview-building");
    await page.waitForSelector("h1#message");
    expect(await page.textContent("h1#message")).toBe("Hello from node-app");
    expect([...lengths].filter((length) => length > 0).length).toBeGreaterThan(1);

    // A push to the branch: the follower sees it within `refresh`, builds it and replaces the preview.
    const load = startLoad(stack.nginxPort, branchHost, { pauseMs: 20 });
    try {
      const server = path.join(work, "server.js");
      await writeFile(server, (await readFile(server, "utf8")).replace('"Hello from node-app"', '"Hello from the second commit"'));
      await git(["commit", "-q", "-am", "second"]);
      // The load sees the switch first; then the page, reloaded once, shows it.
      await waitFor("the branch host to serve the second commit", async () => load.answers.some((answer) => answer.body.includes("Hello from the second commit")), 120_000, 100);
      await load.more(20);
      await page.reload();
      expect(await page.textContent("h1#message")).toBe("Hello from the second commit");
    } finally {
      await load.stop();
    }
    await screenshot(page, "preview-switched");
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(load.answers.length).toBeGreaterThan(20);
    await page.close();
  }, 300_000);
});
