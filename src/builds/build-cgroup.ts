// One control group per preview build, under which Docker puts each step's container: the build's processes
// are counted together (pids.max), so a fork bomb in a RUN step stops at the limit instead of at the host's.
import { mkdir, readdir, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";

/** The parent of every build's group, in each hierarchy (cgroup v1) or in the one tree (v2). */
const BUILDS_GROUP = "demo-launcher-builds";

export interface HeldGroup {
  /** What Docker's `cgroupparent` takes; undefined when the limit cannot be held here (`why` says so). */
  parent?: string;
  why?: string;
  release(): Promise<void>;
}

type Layout = { kind: "v1" | "v2" } | { kind: "none"; why: string };

export class BuildCgroups {
  private layout: Promise<Layout> | undefined;

  constructor(private readonly docker: Pick<Docker, "info">, private readonly root = "/sys/fs/cgroup") {}

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
    const hierarchies = kind === "v2" ? [this.root] : (await readdir(this.root).catch(() => [] as string[])).map((entry) => path.join(this.root, entry));
    for (const hierarchy of hierarchies) await rmdir(path.join(hierarchy, BUILDS_GROUP, name)).catch(() => {});
  }

  /** Groups need root and the cgroupfs driver (with systemd's, Docker takes only slices, which systemd owns). */
  private async detect(): Promise<Layout> {
    if (process.getuid?.() !== 0) return { kind: "none", why: "not running as root: a build's processes are not counted together (builds.pids is not held)" };
    const info = (await this.docker.info()) as { CgroupDriver?: string; CgroupVersion?: string };
    if (info.CgroupDriver !== "cgroupfs") return { kind: "none", why: `Docker uses the ${info.CgroupDriver ?? "unknown"} cgroup driver: builds.pids is held only with cgroupfs` };
    return { kind: info.CgroupVersion === "2" ? "v2" : "v1" };
  }
}
