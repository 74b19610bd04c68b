// A ready preview's pages in the comment of its pull or merge request: each configured path in each viewport,
// shot one at a time across all previews (a browser is heavy on a small host), after the preview is ready so
// it never waits for them, kept under <stateDir>/screens/<preview>/ and removed with the preview.
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Build } from "../core/builds/build-queue.js";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { newestInstance, type Demo } from "../core/model.js";
import { chromiumAvailable, CHROMIUM_PATH, takeScreenshot, VIEWPORTS } from "./chromium.js";

/** A screenshot's file name: the commit it shows, the page's place in the list and the viewport; never reused. */
export const SCREEN_NAME = /^([0-9a-f]{12})-(\d{1,2})-(desktop|phone)\.png$/;
const SHOT_TIMEOUT_MS = 30_000;

export interface PreviewScreensOptions {
  stateDir: string;
  logger: Logger;
  /** The preview a build serves (its host and endpoint), once it is ready. */
  demo: (label: string) => Demo | undefined;
  /** The paths a source's previews are shot at; undefined where it takes none. */
  pathsOf: (source: string) => readonly string[] | undefined;
  /** The public URL of a screenshot (served by the controller under the apex). */
  urlOf: (label: string, name: string) => string;
  chromium?: string;
  timeoutMs?: number;
}

export class PreviewScreens {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly dir: string;

  constructor(private readonly options: PreviewScreensOptions) {
    this.dir = path.join(options.stateDir, "screens");
  }

  /** The screenshots part of a ready build's comment, once they are taken; undefined where its source takes none. */
  async commentPart(build: Build): Promise<string | undefined> {
    const paths = this.options.pathsOf(build.source);
    const label = build.host;
    if (!paths || paths.length === 0 || !label || !build.commit) return undefined;
    const chromium = this.options.chromium ?? CHROMIUM_PATH;
    if (!(await chromiumAvailable(chromium))) return `**Screenshots**: no screenshot (Chromium is not installed at ${chromium} on the controller's host; \`demo-launcher doctor\` says so).`;
    const commit = build.commit.slice(0, 12);
    const taken = this.queue.then(() => this.shoot(label, commit, paths));
    this.queue = taken.catch(() => {});
    const cells = await taken;
    const rows = paths.map((page, index) => `| \`${page}\` | ${VIEWPORTS.map((viewport) => cells.get(`${index}-${viewport.name}`) ?? "no screenshot").join(" | ")} |`);
    return [`**Screenshots** of ${commit}:`, "", `| page | ${VIEWPORTS.map((viewport) => viewport.name).join(" | ")} |`, `| --- | ${VIEWPORTS.map(() => "---").join(" | ")} |`, ...rows].join("\n");
  }

  /** Each page in each viewport; a cell says what it shows, or why there is none. */
  private async shoot(label: string, commit: string, paths: readonly string[]): Promise<Map<string, string>> {
    const cells = new Map<string, string>();
    const demo = this.options.demo(label);
    const endpoint = demo && demo.status === "ready" ? newestInstance(demo)?.endpoint : undefined;
    if (!demo || !endpoint) {
      for (const [index] of paths.entries()) for (const viewport of VIEWPORTS) cells.set(`${index}-${viewport.name}`, "no screenshot (the preview is not ready)");
      return cells;
    }
    const folder = path.join(this.dir, label);
    await mkdir(folder, { recursive: true });
    for (const [index, page] of paths.entries()) {
      for (const viewport of VIEWPORTS) {
        const name = `${commit}-${index}-${viewport.name}.png`;
        try {
          await takeScreenshot({ host: demo.host, endpoint, path: page, viewport, file: path.join(folder, name), timeoutMs: this.options.timeoutMs ?? SHOT_TIMEOUT_MS }, this.options.chromium);
          cells.set(`${index}-${viewport.name}`, `![${page} on a ${viewport.name}](${this.options.urlOf(label, name)})`);
        } catch (error) {
          this.options.logger.warn(`screenshot of ${label}${page} (${viewport.name}): ${describeError(error)}`);
          cells.set(`${index}-${viewport.name}`, `no screenshot (${describeError(error).slice(0, 120)})`);
        }
      }
    }
    // Only this commit's stay: an older push's pictures are not linked any more.
    for (const file of await readdir(folder).catch(() => [] as string[])) if (!file.startsWith(`${commit}-`)) await rm(path.join(folder, file), { force: true });
    // The preview ended while it was shot (its removal ran before these files were written): they go too.
    if (!this.options.demo(label)) await this.remove(label);
    return cells;
  }

  /** The file of a screenshot, when there is one by that name. */
  async fileOf(label: string, name: string): Promise<string | undefined> {
    if (!SCREEN_NAME.test(name) || !/^[a-z0-9-]{1,63}$/.test(label)) return undefined;
    const file = path.join(this.dir, label, name);
    return (await stat(file).then((info) => info.isFile(), () => false)) ? file : undefined;
  }

  /** A preview ended: its screenshots go with it. */
  async remove(label: string): Promise<void> {
    if (/^[a-z0-9-]{1,63}$/.test(label)) await rm(path.join(this.dir, label), { recursive: true, force: true });
  }
}
