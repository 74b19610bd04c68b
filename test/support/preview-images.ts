// Preview images without Docker, for the http tier: each build writes its lines to the build's log as Docker's
// builder would, can be held half-way until the test lets it go, fails when told to, and adds its tag to the
// in-memory runtime's images so the engine can serve it. The real builder is tested in test/adapters.
import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { PreviewImages } from "../../src/builds/build-runner.js";
import { ImageBuildError, previewImageTag, tailOf, type ImageBuildRequest } from "../../src/builds/image-builder.js";
import type { MemoryRuntime } from "../../src/core/memory-runtime.js";

interface Hold {
  reached: Promise<void>;
  arrive: () => void;
  release: () => void;
  released: Promise<void>;
}

export class ScriptedImages implements PreviewImages {
  /** Builds of these refs (branch names or full commits) print the marker and fail as a RUN step that exits 3. */
  readonly failing = new Map<string, string>();
  readonly removed: string[] = [];
  private readonly holds = new Map<string, Hold>();

  constructor(private readonly runtime: MemoryRuntime) {}

  /** Builds of this ref print their first lines, then wait for `release(ref)`; resolves once one has printed them. */
  hold(ref: string): Promise<void> {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(ref, { reached, arrive, release, released });
    return reached;
  }

  release(ref: string): void {
    this.holds.get(ref)?.release();
    this.holds.delete(ref);
  }

  async build(request: ImageBuildRequest): Promise<string> {
    const ref = request.ref ?? request.commit;
    const tag = previewImageTag(request.source, request.commit);
    const say = (lines: string[]) => appendFile(request.logFile, lines.map((line) => `${line}\n`).join(""));
    await mkdir(path.dirname(request.logFile), { recursive: true });
    await say([`[demo-launcher] building ${tag} from ${request.commit} (${request.ref ?? "commit"})`, "log-line-1", "log-line-2", "log-line-3"]);
    const hold = this.holds.get(ref) ?? this.holds.get(request.commit);
    if (hold) {
      hold.arrive();
      await new Promise<void>((resolve, reject) => {
        void hold.released.then(resolve);
        // A build cancelled before it got here (while its log line was written) never hears an abort event: it
        // waited for a release nobody gives (CI, a loaded machine: the test's cancel loop and the runner's close hung).
        if (request.signal?.aborted) reject(new Error("aborted"));
        request.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      });
    }
    const marker = this.failing.get(ref) ?? this.failing.get(request.commit);
    if (marker) {
      await say([marker, "The command '/bin/busybox sh -c exit 3' returned a non-zero code: 3"]);
      throw new ImageBuildError(`building ${tag} failed: The command returned a non-zero code: 3`, await tailOf(request.logFile, 20));
    }
    await say(["log-line-4", "log-line-5", `[demo-launcher] built ${tag}`]);
    this.runtime.images.add(tag);
    return tag;
  }

  async remove(images: string[]): Promise<string[]> {
    for (const image of images) this.runtime.images.delete(image);
    this.removed.push(...images);
    return images;
  }
}
