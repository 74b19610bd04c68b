// Which preview images (and asleep previews) go: unused ones after their source's `keep`, and, when the disk
// holding Docker's data runs low, the least recently used first until there is room again; pure, takes `now`.

export interface KeptImage {
  tag: string;
  source: string;
  /** When a preview last served it (or it was last built); the image's creation when nothing says. */
  lastUsedAt: number;
  sizeBytes: number;
}

export interface AsleepPreview {
  id: string;
  image: string;
  lastSeenAt: number;
}

export interface CleanupInput {
  images: KeptImage[];
  /** Images a live (not asleep) preview serves: never removed. */
  inUse: ReadonlySet<string>;
  asleep: AsleepPreview[];
  now: number;
  keepFor: (source: string) => number | undefined;
  /** The most images one source keeps: beyond it the least recently used unused ones go, whatever their `keep`. */
  maxPerSource?: number;
  /** Bytes free on Docker's disk and the least that must be: more is freed when it is below. */
  disk?: { freeBytes: number; minFreeBytes: number };
}

export interface CleanupPlan {
  /** Asleep previews to end for disk space, oldest first (their images are in `images` too). */
  endPreviews: string[];
  removeImages: string[];
}

export function planImageCleanup(input: CleanupInput): CleanupPlan {
  // Only images of sources configured here: another controller on the same Docker host keeps its own.
  input = { ...input, images: input.images.filter((image) => input.keepFor(image.source) !== undefined) };
  const removeImages = new Set<string>();
  const asleepImages = new Set(input.asleep.map((preview) => preview.image));
  for (const image of input.images) {
    const keep = input.keepFor(image.source);
    if (input.inUse.has(image.tag) || asleepImages.has(image.tag) || keep === undefined) continue;
    if (input.now - image.lastUsedAt >= keep) removeImages.add(image.tag);
  }
  if (input.maxPerSource !== undefined) {
    const bySource = new Map<string, KeptImage[]>();
    for (const image of input.images) if (!removeImages.has(image.tag)) bySource.set(image.source, [...(bySource.get(image.source) ?? []), image]);
    for (const images of bySource.values()) {
      let extra = images.length - input.maxPerSource;
      // Images that serve (awake or asleep) count but never go: a source with more live previews than the cap keeps them.
      for (const image of images.filter((each) => !input.inUse.has(each.tag) && !asleepImages.has(each.tag)).sort((a, b) => a.lastUsedAt - b.lastUsedAt)) {
        if (extra <= 0) break;
        removeImages.add(image.tag);
        extra -= 1;
      }
    }
  }
  const endPreviews: string[] = [];
  if (input.disk && input.disk.freeBytes < input.disk.minFreeBytes) {
    let missing = input.disk.minFreeBytes - input.disk.freeBytes;
    const sizeOf = new Map(input.images.map((image) => [image.tag, image.sizeBytes]));
    for (const tag of removeImages) missing -= sizeOf.get(tag) ?? 0;
    // Unused images first, least recently used first; then asleep previews, the longest asleep first.
    const unused = input.images.filter((image) => !input.inUse.has(image.tag) && !asleepImages.has(image.tag) && !removeImages.has(image.tag)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const image of unused) {
      if (missing <= 0) break;
      removeImages.add(image.tag);
      missing -= image.sizeBytes;
    }
    for (const preview of [...input.asleep].sort((a, b) => a.lastSeenAt - b.lastSeenAt)) {
      if (missing <= 0) break;
      endPreviews.push(preview.id);
      // The image goes with the last asleep preview that serves it, unless an awake one still does.
      const others = input.asleep.filter((other) => other.image === preview.image && !endPreviews.includes(other.id));
      if (others.length === 0 && !input.inUse.has(preview.image) && !removeImages.has(preview.image)) {
        removeImages.add(preview.image);
        missing -= sizeOf.get(preview.image) ?? 0;
      }
    }
  }
  return { endPreviews, removeImages: [...removeImages] };
}
