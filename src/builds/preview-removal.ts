// Removing a preview like a reset: its builds under way are cancelled, its containers and route go, and its
// images go unless another preview still serves them. The admin's DELETE and a closed pull request use it.
import type { Demo } from "../core/model.js";
import { previewLabels } from "../core/previews/preview-names.js";
import type { BuildRunner } from "./build-runner.js";

/** The build runner as far as webhooks and removals go (the http tier passes one on the pure queue). */
export type PreviewBuilds = Pick<BuildRunner, "request" | "queue" | "cancel" | "removeImages">;

/** The engine as far as a removal goes. */
export interface PreviewRemovalEngine {
  get(id: string): Demo | undefined;
  /** Ends a live demo with these words; false when it was not live. */
  endDemo(id: string, status: "stopped", reason: string): Promise<boolean>;
  list(): Demo[];
}

export interface PreviewRemoval {
  removed: boolean;
  cancelledBuilds: string[];
  removedImages: string[];
  keptImages: Array<{ image: string; usedBy: string[] }>;
}

/** `reason`: why, in the words its page and its pull request's comment give (a closed pull request, a deleted branch). */
export async function removePreview(engine: PreviewRemovalEngine, runner: PreviewBuilds | undefined, label: string, reason = "it was stopped"): Promise<PreviewRemoval> {
  const cancelledBuilds: string[] = [];
  for (const build of runner?.queue.all() ?? []) {
    if (runner!.queue.isActive(build) && previewLabels(build).includes(label) && (await runner!.cancel(build.id))) cancelledBuilds.push(build.id);
  }
  const demo = engine.get(label);
  const images = demo ? [...new Set(demo.instances.map((instance) => instance.image))] : [];
  if (demo) await engine.endDemo(label, "stopped", reason);
  // An image another preview still serves (the same commit at its commit host) stays until that one goes too.
  const usedBy = (image: string) => engine.list().filter((other) => other.instances.some((instance) => instance.image === image)).map((other) => other.host);
  const keptImages = images.flatMap((image) => (usedBy(image).length ? [{ image, usedBy: usedBy(image) }] : []));
  const removedImages = runner ? await runner.removeImages(images.filter((image) => usedBy(image).length === 0)) : [];
  return { removed: Boolean(demo), cancelledBuilds, removedImages, keptImages };
}
