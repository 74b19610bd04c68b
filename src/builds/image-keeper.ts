// Keeps preview images in check: each image's last use is remembered (beside the state file), unused images go
// after their source's `keep`, and when the disk holding Docker's data runs low the least recently used go first.
import path from "node:path";
import type Docker from "dockerode";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { planImageCleanup, type AsleepPreview, type CleanupPlan } from "../core/builds/image-cleanup.js";
import { LABEL_PREFIX } from "../core/model.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";
import { PREVIEW_IMAGE_REPO } from "./image-builder.js";
import { dataRootFree } from "../docker/data-root.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const PASS_EVERY_MS = 60_000;

/** What the keeper needs of the engine: which images serve, which previews sleep, and ending one. */
export interface PreviewUse {
  inUse(): Set<string>;
  asleep(): AsleepPreview[];
  endPreview(id: string, reason: string): Promise<void>;
}

export interface ImageKeeperOptions {
  docker: Docker;
  stateDir: string;
  keepFor: (source: string) => number | undefined;
  minFreeBytes: number;
  /** builds.maxImagesPerSource: the most images a source keeps. */
  maxPerSource?: number;
  use: PreviewUse;
  logger: Logger;
  now: () => number;
  /** Runs the passes; the system scheduler by default. */
  scheduler?: Scheduler;
  /**
   * True while a build runs in Docker: removing an image then also prunes the untagged layers under it, which a
   * build of the same Dockerfile may be standing on as its cache ("failed to get digest"). Removals wait for a
   * moment without one, unless the disk is low (a build would fail then anyway).
   */
  building?: () => boolean;
  /** Bytes free where Docker keeps images; by default measured on Docker's data root (undefined: unknown). */
  freeBytes?: () => Promise<number | undefined>;
  /**
   * Images launches pulled (a Compose file's postgres:15): kept while a container runs them or an app names them,
   * removed after `keepMs` unused, or sooner when the disk is low, like preview images.
   */
  pulled?: { keepMs: number; needed: () => ReadonlySet<string> };
}

/** The source pulled images are counted under (for builds.maxImagesPerSource and the log). */
export const PULLED_SOURCE = "(pulled)";

export class ImageKeeper {
  private readonly file: string;
  private usedAt = new Map<string, number>();
  /** Pulled images and when they were last pulled or seen in use. */
  private pulled = new Map<string, number>();
  private timer: Cancel | undefined;
  private running: Promise<unknown> | undefined;

  private readonly freeBytes: () => Promise<number | undefined>;

  constructor(private readonly options: ImageKeeperOptions) {
    this.file = path.join(options.stateDir, "preview-images.json");
    this.freeBytes = options.freeBytes ?? dataRootFree(options.docker);
  }

  async start(): Promise<void> {
    const text = await readIfExists(this.file);
    try {
      const saved = text ? (JSON.parse(text) as { usedAt?: Record<string, number>; pulled?: Record<string, number> }) : {};
      this.usedAt = new Map(Object.entries(saved.usedAt ?? {}));
      this.pulled = new Map(Object.entries(saved.pulled ?? {}));
    } catch (error) {
      this.options.logger.warn(`${this.file} is not readable (${describeError(error)}); image ages start from their creation`);
    }
    this.timer = (this.options.scheduler ?? systemScheduler).every(PASS_EVERY_MS, () => this.passNow());
  }

  /** A pass now, unless one is running (then that one): after a build, the per-source cap holds at once. */
  passNow(): Promise<unknown> {
    this.running ??= this.pass().catch((error) => this.options.logger.warn(`cleaning preview images: ${describeError(error)}`)).finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.timer?.();
    await this.running;
  }

  /** A launch pulled this image onto the host: it is the keeper's from now on. */
  notePulled(image: string): void {
    this.pulled.set(image, this.options.now());
    // Written at once: a controller killed before its next pass still knows the image is its to remove.
    void this.save();
  }

  private async save(): Promise<void> {
    await writeAtomically(this.file, `${JSON.stringify({ version: 1, usedAt: Object.fromEntries(this.usedAt), pulled: Object.fromEntries(this.pulled) })}\n`).catch((error) => this.options.logger.warn(`saving ${this.file}: ${describeError(error)}`));
  }

  /** An image was just built or served: its `keep` starts again. */
  used(tag: string): void {
    this.usedAt.set(tag, this.options.now());
  }

  /** One pass: plan from Docker's list of preview images, end what must end, remove what must go. */
  async pass(): Promise<CleanupPlan> {
    const { docker, use, now } = this.options;
    const listed = await docker.listImages({ filters: { label: [`${LABEL_PREFIX}source`] } });
    const inUse = use.inUse();
    // An environment's other services run images of their own (built per service and context): a container of ours
    // that runs one keeps it, whatever the engine's instances name.
    for (const container of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PREFIX}instance`] } })) inUse.add(container.Image);
    for (const tag of inUse) this.usedAt.set(tag, now());
    const images = listed.flatMap((image) =>
      (image.RepoTags ?? [])
        .filter((tag) => tag.startsWith(`${PREVIEW_IMAGE_REPO}/`))
        .map((tag) => ({ tag, source: image.Labels?.[`${LABEL_PREFIX}source`] ?? "", lastUsedAt: this.usedAt.get(tag) ?? image.Created * 1000, sizeBytes: image.Size })),
    );
    images.push(...(await this.pulledImages(inUse)));
    const free = await this.freeBytes().catch(() => undefined);
    const keepFor = (source: string) => (source === PULLED_SOURCE ? this.options.pulled?.keepMs : this.options.keepFor(source));
    const plan = planImageCleanup({ images, inUse, asleep: use.asleep(), now: now(), keepFor, ...(this.options.maxPerSource !== undefined ? { maxPerSource: this.options.maxPerSource } : {}), ...(free !== undefined ? { disk: { freeBytes: free, minFreeBytes: this.options.minFreeBytes } } : {}) });
    const lowDisk = plan.endPreviews.length > 0 || (free !== undefined && free < this.options.minFreeBytes);
    for (const id of plan.endPreviews) await use.endPreview(id, "it was asleep and its disk space was needed");
    const removeNow = lowDisk || !this.options.building?.();
    for (const tag of removeNow ? plan.removeImages : []) {
      try {
        await docker.getImage(tag).remove();
        this.usedAt.delete(tag);
        const pulled = this.pulled.delete(tag);
        this.options.logger.info(`removed ${pulled ? "pulled" : "preview"} image ${tag}${lowDisk ? " (the disk holding Docker's data is low)" : " (unused for longer than its keep, or past builds.maxImagesPerSource)"}`);
      } catch (error) {
        // 409: a container still uses it (a preview started meanwhile); the next pass looks again.
        this.options.logger.warn(`removing preview image ${tag}: ${describeError(error)}`);
      }
    }
    const known = new Set(images.map((image) => image.tag));
    for (const tag of this.usedAt.keys()) if (!known.has(tag) && !inUse.has(tag)) this.usedAt.delete(tag);
    await this.save();
    return plan;
  }

  /** Pulled images that may go (not run, not named by an app), as the plan takes them; forgets those gone from Docker. */
  private async pulledImages(inUse: Set<string>): Promise<Array<{ tag: string; source: string; lastUsedAt: number; sizeBytes: number }>> {
    if (this.pulled.size === 0 || !this.options.pulled) return [];
    const byTag = new Map((await this.options.docker.listImages()).flatMap((image) => (image.RepoTags ?? []).map((tag) => [tag, image] as const)));
    const needed = this.options.pulled.needed();
    const candidates = [];
    for (const [tag, at] of this.pulled) {
      const image = byTag.get(tag);
      if (!image) this.pulled.delete(tag);
      else if (inUse.has(tag) || needed.has(tag)) this.pulled.set(tag, this.options.now());
      else candidates.push({ tag, source: PULLED_SOURCE, lastUsedAt: at, sizeBytes: image.Size });
    }
    return candidates;
  }
}
