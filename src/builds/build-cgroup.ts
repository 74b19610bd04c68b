// One control group per preview build, under which Docker puts each step's container: the build's processes
// are counted together (pids.max), so a fork bomb in a RUN step stops at the limit instead of at the host's.
import { mkdir, readdir, rmdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** The parent of every build's group, in each hierarchy (cgroup v1) or in the one tree (v2). */
const BUILDS_GROUP = "demo-launcher-builds";
/** A build's group this old is left over (a build never runs for a day: builds.timeout is at most hours). */
const LEFT_BEHIND_MS = 24 * 3_600_000;

export interface HeldGroup {
  /** What Docker's `cgroupparent` takes; undefined when the limit cannot be held here (`why` says so). */
  parent?: string;
  why?: string;
  release(): Promise<void>;
}

type Layout = { kind: "v1" | "v2" } | { kind: "none"; why: string };

export class BuildCgroups {
  private layout: Promise<Layout> | undefined;

  constructor(private readonly docker: Pick<Docker, "info">, private readonly now: () => number = () => systemScheduler.now(), private readonly root = "/sys/fs/cgroup") {}

  /** A group for one build holding at most `pids` processes; release it when the build is over. */
  async hold(name: string, pids: number): Promise<HeldGroup> {
    const layout = await (this.layout ??= this.detect());
    if (layout.kind === "none") return { why: layout.why, release: async () => {} };
    const group = layout.kind === "v1" ? path.join(this.root, "pids", BUILDS_GROUP, name) : path.join(this.root, BUILDS_GROUP, name);
    try {
      if (layout.kind === "v2") {
        await mkdir(path.join(this.root, BUILDS_GROUP), { recursive: true });
        // A child group has a pids.max only when its parent hands the controller down.
        await writeFile(path.join(this.root, BUILDS_GROUP, "cgroup.subtree_control"), "+pids");
      }
      await mkdir(group, { recursive: true });
      await writeFile(path.join(group, "pids.max"), String(pids));
    } catch (error) {
      return { why: `the build's process limit could not be set (${describeError(error)})`, release: async () => {} };
    }
    return { parent: `/${BUILDS_GROUP}/${name}`, release: () => this.remove(layout.kind as "v1" | "v2", name) };
  }

  /** Docker made the group in every hierarchy it uses; each goes once its containers are gone (busy ones stay: a later sweep). */
  private async remove(kind: "v1" | "v2", name: string): Promise<void> {
    for (const hierarchy of await this.hierarchies(kind)) await rmdir(path.join(hierarchy, BUILDS_GROUP, name)).catch(() => {});
  }

  /** Where Docker makes a build's groups: every controller's hierarchy (v1), or the one tree (v2). */
  private async hierarchies(kind: "v1" | "v2"): Promise<string[]> {
    if (kind === "v2") return [this.root];
    return (await readdir(this.root).catch(() => [] as string[])).map((entry) => path.join(this.root, entry));
  }

  /** Groups need root and the cgroupfs driver (with systemd's, Docker takes only slices, which systemd owns). */
  private async detect(): Promise<Layout> {
    if (process.getuid?.() !== 0) return { kind: "none", why: "not running as root: a build's processes are not counted together (builds.pids is not held)" };
    const info = (await this.docker.info()) as { CgroupDriver?: string; CgroupVersion?: string };
    if (info.CgroupDriver !== "cgroupfs") return { kind: "none", why: `Docker uses the ${info.CgroupDriver ?? "unknown"} cgroup driver: builds.pids is held only with cgroupfs` };
    const kind = info.CgroupVersion === "2" ? "v2" : "v1";
    await this.sweep(kind);
    return { kind };
  }

  /**
   * Groups a controller stopped by kill -9 left behind: empty ones older than a day go (rmdir refuses a group in
   * use; the age spares a group another controller on this host made a moment ago for a step about to start).
   */
  private async sweep(kind: "v1" | "v2"): Promise<void> {
    for (const hierarchy of await this.hierarchies(kind)) {
      const parent = path.join(hierarchy, BUILDS_GROUP);
      for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
        if (!entry.isDirectory()) continue;
        const group = path.join(parent, entry.name);
        const made = await stat(group).then((info) => info.mtimeMs, () => Number.POSITIVE_INFINITY);
        if (this.now() - made > LEFT_BEHIND_MS) await rmdir(group).catch(() => {});
      }
    }
  }
}
