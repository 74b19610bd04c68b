// The task board example (examples/compose-app: web, worker, PostgreSQL, Redis) in a real browser: launch, add a task, the worker does it, reset rewinds the database service.
import { cp } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { launchBrowser, resetFromBanner, screenshot } from "../support/browser.js";
import { ensureExampleImages } from "../support/example-images.js";
import { startUp, type UpProcess } from "../support/up.js";

describe("the Compose example in a real browser", () => {
  let up: UpProcess;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    await ensureExampleImages();
    up = await startUp(
      ({ nginxPort, controllerPort, namespace }) => `namespace: ${namespace}
listen: 127.0.0.1:${controllerPort}
nginx: { listen: "127.0.0.1:${nginxPort}" }
ports: { from: 38000, to: 38999 }
limits: { maxDemos: 2, perClient: 1 }
apps:
  tasks:
    compose: compose-app/compose.yaml
    route: { service: web, port: 8000 }
    title: Task board
    description: Four services of your own.
    memory: 256m
    pids: 256
    readiness: { path: /healthz, timeout: 2m }
    state:
      default: fixtures
      sources:
        fixtures: { service: db, driver: postgres, file: /opt/db/fixtures.sql, database: tasks, user: postgres, password: tasks, owner: tasks }
`,
      { beforeStart: (dir) => cp(path.join(PACKAGE_ROOT, "examples", "compose-app"), path.join(dir, "compose-app"), { recursive: true }) },
    );
    browser = await launchBrowser();
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await up?.close();
  });

  it("launches the task board, takes a task through web and PostgreSQL, and shows it done by the worker through Redis; Reset my demo rewinds the db service", async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${up.apexUrl}/`);
    await page.locator("section.card", { has: page.getByRole("heading", { name: "Task board" }) }).getByRole("button", { name: "Launch demo" }).click();
    await page.waitForURL(new RegExp(`^http://[a-z][a-z0-9]{7}\\.demo\\.localhost:${up.nginxPort}/$`));
    await page.getByRole("heading", { name: "Task board" }).waitFor();
    const demoUrl = page.url();
    // The fixtures PostgreSQL loaded on the environment's first start, and the URL the demo was told (DEMO_URL).
    await page.getByText("Welcome to the task board").waitFor();
    expect(await page.locator("code").first().textContent()).toBe(demoUrl);
    await page.getByLabel("New task").fill("write the release notes");
    await page.getByRole("button", { name: "Add task" }).click();
    // The worker takes it from Redis and writes the result to PostgreSQL; the page looks again until it is done.
    await page.getByText("WRITE THE RELEASE NOTES").waitFor();
    expect(await page.locator("li", { hasText: "write the release notes" }).getAttribute("class")).toBe("done");
    await screenshot(page, "compose-task-board");

    // "Reset my demo" in the banner rewinds the db service's database to its fixtures: the visitor's task is gone.
    page.on("dialog", (dialog) => void dialog.accept());
    await resetFromBanner(page);
    await page.getByText("Welcome to the task board").waitFor();
    expect(await page.getByText("write the release notes").count()).toBe(0);

    // The operator's console (from this machine, no token configured) lists the demo's services and their health.
    const demoId = new URL(demoUrl).hostname.split(".")[0]!;
    const consolePage = await context.newPage();
    await consolePage.goto(`http://127.0.0.1:${up.controllerPort}/__admin/`);
    await Promise.all([consolePage.waitForURL(`http://127.0.0.1:${up.controllerPort}/__admin/`), consolePage.getByRole("button", { name: "Open the console" }).click()]);
    const row = consolePage.locator("tr", { hasText: demoId });
    for (const service of ["cache", "db", "web", "worker"]) await row.locator(`[data-service="${service}"]`).waitFor();
    await row.locator('[data-service="db"] .state-healthy').waitFor();
    expect(await row.locator('[data-service="web"]').textContent()).toContain("web (routed)");
    await screenshot(consolePage, "compose-console-services");
  });
});
