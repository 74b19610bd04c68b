// How the CLI words a preview build: its ref and its one-line summary.
import type { BuildView } from "../api/views.js";

export const FINISHED = new Set(["ready", "failed", "cancelled", "timed-out"]);

/** The branch (with the commit it resolved to) or the commit a build is of. */
export function refOf(build: BuildView): string {
  return build.branch ? `${build.branch}${build.commit ? ` @ ${build.commit.slice(0, 12)}` : ""}` : (build.commit ?? "").slice(0, 12);
}

export function buildLine(build: BuildView): string {
  return `${build.id}  ${build.source} ${build.state} ${refOf(build)}${build.image ? `  ${build.image}` : ""}${build.url ? `  ${build.url}` : ""}${build.reason ? `\n  reason: ${build.reason}` : ""}`;
}
