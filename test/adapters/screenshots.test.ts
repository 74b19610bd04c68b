// Screenshots by the host's real Chromium of a page served on loopback, shot under the preview's host name: the
// comment's table, PNGs of each viewport's size, one at a time, files only by their exact names, and gone with
// the preview. Without Chromium the comment says so.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { PreviewScreens } from "../../src/screenshots/preview-screens.js";
import { CHROMIUM } from "../support/browser.js";
import type { Demo } from "../../src/core/model.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

describe("screenshots of a preview (real Chromium)", () => {
  let server: http.Server;
  let endpoint: string;
  let dir: string;
  const seenHosts: string[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-screens-"));
    server = http.createServer((request, response) => {
      seenHosts.push(String(request.headers.host));
      inFlight += 1;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      response.on("finish", () => (inFlight -= 1));
      response.writeHead(request.url === "/" || request.url === "/pricing" ? 200 : 404, { "content-type": "text/html" }).end(`<!doctype html><body style="background:#2457d6"><h1>${request.url}</h1></body>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const preview = (): Demo => ({ id: "shop-mr-4", kind: "preview", app: "shop", host: "shop-mr-4.demo.localhost", createdAt: 0, expiresAt: 10 ** 13, status: "ready", step: "done", instances: [{ id: "shop-mr-4-1", generation: 1, image: "x", endpoint, health: "healthy" } as never] });
  const screens = (chromium = CHROMIUM) => new PreviewScreens({ stateDir: dir, logger: silentLogger, demo: (label) => (label === "shop-mr-4" ? preview() : undefined), pathsOf: (source) => (source === "shop" ? ["/", "/pricing"] : undefined), urlOf: (label, name) => `http://demo.localhost/previews/${label}.demo.localhost/screens/${name}`, chromium });
  const build = { id: "b1", source: "shop", host: "shop-mr-4", commit: COMMIT, state: "ready" } as never;

  it("shoots each page in both viewports, under the preview's host, one at a time, and tables them for the comment", async () => {
    const taker = screens();
    const part = await taker.commentPart(build);
    expect(part).toBe([
      "**Screenshots** of 0123456789ab:",
      "",
      "| page | desktop | phone |",
      "| --- | --- | --- |",
      "| `/` | ![/ on a desktop](http://demo.localhost/previews/shop-mr-4.demo.localhost/screens/0123456789ab-0-desktop.png) | ![/ on a phone](http://demo.localhost/previews/shop-mr-4.demo.localhost/screens/0123456789ab-0-phone.png) |",
      "| `/pricing` | ![/pricing on a desktop](http://demo.localhost/previews/shop-mr-4.demo.localhost/screens/0123456789ab-1-desktop.png) | ![/pricing on a phone](http://demo.localhost/previews/shop-mr-4.demo.localhost/screens/0123456789ab-1-phone.png) |",
    ].join("\n"));
    expect(new Set(seenHosts)).toEqual(new Set([`shop-mr-4.demo.localhost:${endpoint.split(":")[1]}`]));
    expect(mostAtOnce).toBe(1);
    for (const [name, size] of [["0123456789ab-0-desktop.png", [1280, 800]], ["0123456789ab-1-phone.png", [390, 844]]] as const) {
      const file = (await taker.fileOf("shop-mr-4", name))!;
      const png = await readFile(file);
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual(size);
    }
    // Only exact names of this preview's files: no other folder, no other file.
    for (const name of ["../../state.json", "0123456789ab-0-desktop.png/..", "0123456789ab-9-desktop.png", "0123456789ab-0-tablet.png"]) expect(await taker.fileOf("shop-mr-4", name), name).toBeUndefined();
    expect(await taker.fileOf("../shop-mr-4", "0123456789ab-0-desktop.png")).toBeUndefined();
    await taker.remove("shop-mr-4");
    expect(await stat(path.join(dir, "screens", "shop-mr-4")).then(() => true, () => false)).toBe(false);
  });

  it("leaves nothing behind of a preview that ended while it was shot", async () => {
    let asked = 0;
    // Live when the shots start, ended (and its folder removed) before they are written.
    const ending = new PreviewScreens({ stateDir: dir, logger: silentLogger, demo: () => (asked++ === 0 ? preview() : undefined), pathsOf: () => ["/"], urlOf: (_label, name) => name, chromium: CHROMIUM });
    await ending.commentPart(build);
    expect(asked).toBeGreaterThan(1);
    expect(await stat(path.join(dir, "screens", "shop-mr-4")).then(() => true, () => false)).toBe(false);
  });

  it("says no screenshot where Chromium is missing, and takes none for a source without screenshots", async () => {
    expect(await screens("/nowhere/chromium").commentPart(build)).toBe("**Screenshots**: no screenshot (Chromium is not installed at /nowhere/chromium on the controller's host; `demo-launcher doctor` says so).");
    expect(await screens().commentPart({ ...(build as object), source: "blog" } as never)).toBeUndefined();
  });
});
