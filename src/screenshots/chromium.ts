// Screenshots of a preview's pages by Debian's headless Chromium (its own --screenshot, no driver library): one
// process per shot, a profile of its own, bounded by a timeout; the page's host resolved to the preview's own
// endpoint, so a gated preview is shot as it serves, not as its sign-in page.
import { access, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The two sizes a reviewer looks at: a laptop's window and a phone's. */
export const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;
export type Viewport = (typeof VIEWPORTS)[number];

export async function chromiumAvailable(chromium = CHROMIUM_PATH): Promise<boolean> {
  return access(chromium).then(
    () => true,
    () => false,
  );
}

export interface Shot {
  /** The preview's host, and its endpoint (`address:port`) that host is resolved to. */
  host: string;
  endpoint: string;
  /** The page's path (and query), starting with /. */
  path: string;
  viewport: Viewport;
  file: string;
  timeoutMs: number;
}

/** Takes one screenshot into `file`; throws with Chromium's last words when it cannot. */
export async function takeScreenshot(shot: Shot, chromium = CHROMIUM_PATH): Promise<void> {
  const [address, port] = [shot.endpoint.slice(0, shot.endpoint.lastIndexOf(":")), shot.endpoint.slice(shot.endpoint.lastIndexOf(":") + 1)];
  const profile = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-chromium-"));
  try {
    const result = await execa(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--mute-audio",
        `--user-data-dir=${profile}`,
        `--host-resolver-rules=MAP ${shot.host} ${address}`,
        // A page's scripts get a few seconds of (virtual) time to draw before the shot.
        "--virtual-time-budget=3000",
        `--window-size=${shot.viewport.width},${shot.viewport.height}`,
        `--screenshot=${shot.file}`,
        `http://${shot.host}:${port}${shot.path}`,
      ],
      { reject: false, timeout: shot.timeoutMs, all: true, stdin: "ignore" },
    );
    if (result.timedOut) throw new Error(`Chromium took longer than ${Math.round(shot.timeoutMs / 1000)} s`);
    if (result.exitCode !== 0 || !/bytes written to file/.test(result.all ?? "")) throw new Error(`Chromium could not take it: ${(result.all ?? "").split("\n").filter((line) => !/dbus|DBus/.test(line)).slice(-2).join(" ").slice(0, 300)}`);
  } finally {
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  }
}
