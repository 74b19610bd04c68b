// Builds a preview's image from the exact commit (git archive → Docker's classic builder), logs every line to a
// file, labels the image with its source, commit and ref, and reuses it for every later request of that commit.
import { createWriteStream, type WriteStream } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import type { GitMirror } from "./git.js";

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
   * What the build's steps run in: memory (no swap beyond it) and CPUs for each step's container, and a Docker
   * network with egress rules when given (the controller gives none yet: the demos' rules also drop DNS to a
   * resolver on a private address, which package installs need; builds get a network of their own next).
   */
  limits?: { network?: string; memory: number; cpus: number };
}

/** The build failed; `tail` holds its last log lines, which say why. */
export class ImageBuildError extends Error {
  constructor(message: string, readonly tail: string) {
    super(message);
    this.name = "ImageBuildError";
  }
}

export class ImageBuilder {
  constructor(private readonly docker: Docker) {}

  /** The tag of an image already built from this commit, if there is one. */
  async existing(source: string, commit: string): Promise<string | undefined> {
    const tag = previewImageTag(source, commit);
    try {
      const info = await this.docker.getImage(tag).inspect();
      return info.Config?.Labels?.[`${LABEL_PREFIX}commit`] === commit ? tag : undefined;
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
    const reused = await this.existing(request.source, request.commit);
    await mkdir(path.dirname(request.logFile), { recursive: true });
    if (reused) {
      // One line, so a build that took no time says why.
      await appendFile(request.logFile, `[demo-launcher] ${reused} was built from ${request.commit} before: reused, no build\n`);
      return reused;
    }
    const log = createWriteStream(request.logFile, { flags: "a" });
    const tag = previewImageTag(request.source, request.commit);
    try {
      line(log, `building ${tag} from ${request.commit} (${request.ref ?? "commit"}), ${request.dockerfile} in ${request.context}`);
      const context = mirror.archive(request.commit, request.context);
      const stream = await this.docker.buildImage(context as unknown as NodeJS.ReadableStream, {
        t: tag,
        dockerfile: request.dockerfile,
        rm: true,
        forcerm: true,
        labels: { [`${LABEL_PREFIX}source`]: request.source, [`${LABEL_PREFIX}commit`]: request.commit, ...(request.ref ? { [`${LABEL_PREFIX}ref`]: request.ref } : {}) },
        ...(request.limits ? { ...(request.limits.network ? { networkmode: request.limits.network } : {}), memory: request.limits.memory, memswap: request.limits.memory, cpuperiod: 100_000, cpuquota: Math.round(request.limits.cpus * 100_000) } : {}),
        ...(request.signal ? { abortSignal: request.signal } : {}),
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
            if (text) log.write(text.endsWith("\n") ? text : `${text}\n`);
          },
        );
      });
      // A daemon stopped mid-build can end the stream without an error and without an image: never trust the stream.
      if ((await this.existing(request.source, request.commit)) !== tag) throw new Error("the build ended without an image (did Docker stop?)");
      line(log, `built ${tag}`);
      return tag;
    } catch (error) {
      const reason = request.signal?.aborted ? "the build was stopped" : describeError(error);
      line(log, `failed: ${reason}`);
      await closeLog(log);
      throw new ImageBuildError(`building ${tag} failed: ${reason}`, await tailOf(request.logFile, 20));
    } finally {
      await closeLog(log);
    }
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
