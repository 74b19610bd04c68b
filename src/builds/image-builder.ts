// Builds a preview's image from the exact commit (git archive → Docker's classic builder), logs every line to a
// file, labels the image with its source, commit and ref, and reuses it for every later request of that commit.
import { createWriteStream, type WriteStream } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import type { GitMirror } from "./git.js";
import { BuildProgress, buildOverLimits, stepNeedsMeasure } from "../core/builds/build-budget.js";
import { formatBytes } from "../core/demos/disk.js";
import type { Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import type { BuildCgroups } from "./build-cgroup.js";
import { redactSecrets } from "./redact.js";
import { stepOptions } from "./step-limits.js";
import { dataRootFree } from "../docker/data-root.js";

/** How often a running build's disk use and the disk's free space are read. */
const WATCH_EVERY_MS = 1_000;

export const PREVIEW_IMAGE_REPO = "demo-launcher-preview";

/** One image per source and commit: `demo-launcher-preview/<source>:<commit 12>`. */
export function previewImageTag(source: string, commit: string): string {
  return `${PREVIEW_IMAGE_REPO}/${source}:${commit.slice(0, 12)}`;
}

export interface ImageBuildRequest {
  source: string;
  /** The full commit id. */
  commit: string;
  /** The branch or pull-request ref it was asked for, kept as a label for people reading `docker images`. */
  ref?: string;
  dockerfile: string;
  context: string;
  /** Where every line of the build goes (the build's log file). */
  logFile: string;
  signal?: AbortSignal;
  /**
   * What the build's steps run in: memory (no swap beyond it) and CPUs for each step's container, the processes
   * of all steps together, a Docker network whose egress the host's rules hold, the most the image and the running
   * step may take on disk (and the largest file a step may write), and the free space the disk keeps.
   */
  limits?: BuildLimits;
  /** Secrets that must never reach the build log (tokens, passwords in URLs are masked anyway). */
  secrets?: readonly string[];
  /**
   * One service of a Compose preview: its own tag, and the key of what it is built from (its context's tree, its
   * Dockerfile, args and target): an image with that key is reused by every later commit that leaves them alone.
   */
  service?: { name: string; tag: string; key: string; buildArgs: Record<string, string>; target?: string };
}

export interface BuildLimits {
  network?: string;
  memory: number;
  cpus: number;
  pids?: number;
  diskBytes?: number;
  minFreeBytes?: number;
}

/** The build failed; `tail` holds its last log lines, which say why. */
export class ImageBuildError extends Error {
  constructor(message: string, readonly tail: string) {
    super(message);
    this.name = "ImageBuildError";
  }
}

export class ImageBuilder {
  private readonly scheduler: Scheduler;
  private readonly freeBytes: () => Promise<number | undefined>;

  constructor(private readonly docker: Docker, private readonly options: { scheduler?: Scheduler; cgroups?: BuildCgroups; logger?: { warn(message: string): void } } = {}) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.freeBytes = dataRootFree(docker);
  }

  /** The tag of an image already built from this commit (or, for a service, from the same key), if there is one. */
  async existing(source: string, commit: string, service?: ImageBuildRequest["service"]): Promise<string | undefined> {
    const tag = service?.tag ?? previewImageTag(source, commit);
    try {
      const labels = (await this.docker.getImage(tag).inspect()).Config?.Labels ?? {};
      return (service ? labels[`${LABEL_PREFIX}build-key`] === service.key : labels[`${LABEL_PREFIX}commit`] === commit) ? tag : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes preview images (ours only: `demo-launcher-preview/…`); answers the ones removed. */
  async remove(images: string[], logger: { warn(message: string): void }): Promise<string[]> {
    const removed: string[] = [];
    for (const image of images) {
      if (!image.startsWith(`${PREVIEW_IMAGE_REPO}/`)) continue;
      try {
        await this.docker.getImage(image).remove();
        removed.push(image);
      } catch (error) {
        logger.warn(`removing image ${image}: ${describeError(error)}`);
      }
    }
    return removed;
  }

  /** Builds (or reuses) the commit's image; resolves to its tag. */
  async build(request: ImageBuildRequest, mirror: GitMirror): Promise<string> {
    const reused = await this.existing(request.source, request.commit, request.service);
    await mkdir(path.dirname(request.logFile), { recursive: true });
    if (reused) {
      // One line, so a build that took no time says why.
      const why = request.service ? `service ${request.service.name}: its build context, Dockerfile and args are unchanged since ${reused} was built` : `${reused} was built from ${request.commit} before`;
      await appendFile(request.logFile, `[demo-launcher] ${why}: reused, no build\n`);
      return reused;
    }
    const log = createWriteStream(request.logFile, { flags: "a" });
    const write = (text: string) => log.write(redactSecrets(text, request.secrets ?? []));
    const tag = request.service?.tag ?? previewImageTag(request.source, request.commit);
    const limits = request.limits;
    const progress = new BuildProgress();
    const stop = new AbortController();
    let stopReason: string | undefined;
    const startedAt = this.scheduler.now();
    const group = limits?.pids ? await this.options.cgroups?.hold(`${request.source}-${request.commit.slice(0, 12)}-${startedAt.toString(36)}`, limits.pids) : undefined;
    let watch: (() => void) | undefined;
    try {
      line(log, `building ${tag} from ${request.commit} (${request.ref ?? "commit"}), ${request.dockerfile} in ${request.context}`);
      if (group?.why) line(log, group.why);
      const floor = limits?.minFreeBytes;
      const freeAtStart = floor !== undefined ? await this.freeBytes() : undefined;
      if (floor !== undefined && freeAtStart !== undefined && freeAtStart < floor) {
        stopReason = `it did not start: the disk holding Docker's data has ${formatBytes(freeAtStart)} free, below builds.minFreeDisk (${formatBytes(floor)})`;
        throw new Error(stopReason);
      }
      if (limits?.diskBytes !== undefined || floor !== undefined) {
        watch = this.watch(progress, { budgetBytes: limits?.diskBytes ?? Number.POSITIVE_INFINITY, floorBytes: floor ?? 0 }, (reason) => {
          stopReason ??= reason;
          stop.abort();
        });
      }
      const context = mirror.archive(request.commit, request.context);
      const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
      const stream = await this.docker.buildImage(context as unknown as NodeJS.ReadableStream, {
        t: tag,
        dockerfile: request.dockerfile,
        rm: true,
        forcerm: true,
        labels: { [`${LABEL_PREFIX}source`]: request.source, [`${LABEL_PREFIX}commit`]: request.commit, ...(request.ref ? { [`${LABEL_PREFIX}ref`]: request.ref } : {}), ...(request.service ? { [`${LABEL_PREFIX}service`]: request.service.name, [`${LABEL_PREFIX}build-key`]: request.service.key } : {}) },
        ...(request.service ? { buildargs: request.service.buildArgs, ...(request.service.target ? { target: request.service.target } : {}) } : {}),
        ...(limits ? stepOptions(limits, group?.parent) : {}),
        abortSignal: signal,
      } as Docker.ImageBuildOptions);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (error: Error | null, output: Array<{ error?: string }>) => {
            const failure = error ? describeError(error) : output.find((entry) => entry.error)?.error;
            if (failure) reject(new Error(failure.trim()));
            else resolve();
          },
          (event: { stream?: string; error?: string; status?: string }) => {
            const text = event.stream ?? event.error ?? event.status;
            if (!text) return;
            if (event.stream) progress.feed(event.stream);
            write(text.endsWith("\n") ? text : `${text}\n`);
          },
        );
      });
      // A daemon stopped mid-build can end the stream without an error and without an image: never trust the stream.
      if ((await this.existing(request.source, request.commit, request.service)) !== tag) throw new Error("the build ended without an image (did Docker stop?)");
      // A step can write and commit between two looks: the image as built is held to the budget too.
      const size = limits?.diskBytes !== undefined ? ((await this.docker.getImage(tag).inspect()) as { Size?: number }).Size : undefined;
      if (size !== undefined && limits?.diskBytes !== undefined && size > limits.diskBytes) {
        stopReason = buildOverLimits({ imageBytes: size, stepBytes: 0 }, { budgetBytes: limits.diskBytes, floorBytes: 0 });
        await this.docker.getImage(tag).remove().catch(() => {});
        throw new Error(stopReason);
      }
      line(log, `built ${tag}`);
      return tag;
    } catch (error) {
      watch?.();
      // A write past the fsize limit (the budget) fails with EFBIG, or kills the writer by SIGXFSZ (exit 128 + 25).
      if (!stopReason && limits?.diskBytes !== undefined && (/non-zero code: 153\b/.test(describeError(error)) || progress.fileTooLarge)) stopReason = `a step wrote a file larger than builds.disk allows (${formatBytes(limits.diskBytes)})`;
      const reason = stopReason ?? (request.signal?.aborted ? "the build was stopped" : describeError(error));
      if (stopReason) {
        // Stopped for disk: what it wrote goes, so the space it took is free again.
        const removed = await this.removeLayers(progress, startedAt);
        line(log, `stopped: ${stopReason}; ${removed} layer(s) it made removed`);
      }
      line(log, `failed: ${reason}`);
      await closeLog(log);
      throw new ImageBuildError(`building ${tag} failed: ${reason}`, await tailOf(request.logFile, 20));
    } finally {
      watch?.();
      await closeLog(log);
      await group?.release();
    }
  }

  /** Reads the disk's free space and, when it falls fast, the running step's size, every second; calls `over` once. */
  private watch(progress: BuildProgress, limits: { budgetBytes: number; floorBytes: number }, over: (reason: string) => void): () => void {
    let busy = false;
    let step: { container: string; freeAtStart?: number } | undefined;
    const cancel = this.scheduler.every(WATCH_EVERY_MS, async () => {
      if (busy) return;
      busy = true;
      try {
        const freeBytes = await this.freeBytes();
        if (progress.stepContainer !== step?.container) step = progress.stepContainer ? { container: progress.stepContainer, ...(freeBytes !== undefined ? { freeAtStart: freeBytes } : {}) } : undefined;
        const imageBytes = progress.image ? ((await this.docker.getImage(progress.image).inspect().catch(() => ({}))) as { Size?: number }).Size ?? 0 : 0;
        const measure = step && Number.isFinite(limits.budgetBytes) && stepNeedsMeasure({ ...(step.freeAtStart !== undefined ? { freeAtStepStart: step.freeAtStart } : {}), ...(freeBytes !== undefined ? { freeNow: freeBytes } : {}), imageBytes, budgetBytes: limits.budgetBytes });
        const stepBytes = measure ? (((await this.docker.getContainer(step!.container).inspect({ size: true } as Docker.ContainerInspectOptions).catch(() => ({}))) as { SizeRw?: number }).SizeRw ?? 0) : 0;
        const reason = buildOverLimits({ imageBytes, stepBytes, ...(freeBytes !== undefined ? { freeBytes } : {}) }, limits);
        if (reason) {
          cancel();
          over(reason);
        }
      } catch (error) {
        this.options.logger?.warn(`watching a build's disk use: ${describeError(error)}`);
      } finally {
        busy = false;
      }
    });
    return cancel;
  }

  /**
   * Removes the layers a stopped build made, newest first, and a layer Docker committed from the step it was
   * stopped in (the stop can come while a step's layer is being committed: that layer is found by its container).
   */
  private async removeLayers(progress: BuildProgress, startedAt: number): Promise<number> {
    const layers = [...progress.createdLayers];
    const step = progress.stepContainer;
    if (step) {
      await this.untilGone(step);
      const children = progress.image ? (await this.docker.listImages({ all: true }).catch(() => [])).filter((image) => image.ParentId?.replace(/^sha256:/, "").startsWith(progress.image!) && image.Created * 1000 >= startedAt - 1000 && !(image.RepoTags ?? []).some((tag) => tag !== "<none>:<none>")) : [];
      for (const child of children) {
        const info = (await this.docker.getImage(child.Id).inspect().catch(() => ({}))) as { Container?: string };
        if (info.Container?.startsWith(step)) layers.push(child.Id);
      }
    }
    let removed = 0;
    for (const layer of layers.reverse()) {
      try {
        await this.docker.getImage(layer).remove({ noprune: true });
        removed += 1;
      } catch {
        // Used by another image (a later build of the same steps): it stays with that one.
      }
    }
    return removed;
  }

  /**
   * Waits (Docker's own wait, not a poll) until the daemon has removed a stopped step's container: it kills it,
   * commits or drops its layer, then removes it. A minute at most; one already gone answers at once.
   */
  private async untilGone(container: string): Promise<void> {
    const limit = new AbortController();
    const cancel = this.scheduler.after(60_000, () => limit.abort());
    await this.docker.getContainer(container).wait({ condition: "removed", abortSignal: limit.signal }).catch(() => {});
    cancel();
  }
}

function line(log: WriteStream, text: string): void {
  if (!log.closed && !log.writableEnded) log.write(`[demo-launcher] ${text}\n`);
}

function closeLog(log: WriteStream): Promise<void> {
  if (log.writableEnded) return new Promise((resolve) => (log.closed ? resolve() : log.once("close", () => resolve())));
  return new Promise((resolve) => log.end(() => resolve()));
}

/** The last lines of a log file: what a failed build's page and API show. */
export async function tailOf(file: string, lines: number): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
