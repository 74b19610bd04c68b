// What a person asking for a preview gets: the preview's host at once, with a build queued only when the commit
// is not served there already; unknown sources, branches and commits are refused with the branches that exist.
import { closeMatches } from "../core/close-matches.js";
import type { Build } from "../core/builds/build-queue.js";
import { DomainError } from "../core/errors.js";
import type { Demo } from "../core/model.js";
import { newestInstance } from "../core/model.js";
import { branchLabel, commitLabel, parsePreviewLabel } from "../core/previews/preview-names.js";
import type { BuildRunner } from "./build-runner.js";
import { checkBranchName, checkCommitId } from "./git.js";

/** The engine as far as previews go: find a live preview, wake it. */
export interface PreviewHosts {
  get(label: string): Demo | undefined;
  wake(label: string): boolean;
}

export interface OpenedPreview {
  label: string;
  /** The build queued (or shared) for it; undefined when the preview already serves that commit. */
  build?: Build;
}

/** The commit a live preview serves, from its image tag (`…:<commit 12>`). */
function servedCommit(demo: Demo): string | undefined {
  return newestInstance(demo)?.image.split(":").at(-1);
}

/**
 * Checks the request against the repository (its branch list as of the last `refresh`, fetched now when older)
 * and answers the host to send the person to. A repository that cannot be fetched does not block a branch:
 * the build retries the fetch and its page says why it waits.
 */
/**
 * The repository's branches, refusing a branch it does not have (with the closest names). The list is as of the
 * last `refresh`, fetched again before a branch is called unknown (it may have been pushed since). A repository
 * that cannot be fetched answers undefined: the build retries the fetch and says why it waits.
 */
export async function knownBranches(runner: BuildRunner, source: string, branch: string): Promise<Map<string, string> | undefined> {
  const load = (maxAgeMs: number) => runner.mirrors.branches(source, maxAgeMs).catch(() => undefined);
  let branches = await load(runner.sources[source]!.refresh);
  if (branches && !branches.has(branch)) branches = await load(0);
  if (branches && !branches.has(branch)) throw new DomainError({ code: "unknown-ref", source, ref: branch, kind: "branch", branches: closeMatches(branch, branches.keys(), 50) });
  return branches;
}

export async function openPreview(runner: BuildRunner, hosts: PreviewHosts, source: unknown, ref: { branch?: unknown; commit?: unknown }): Promise<OpenedPreview> {
  const sources = runner.sources;
  if (typeof source !== "string" || !Object.hasOwn(sources, source)) throw new DomainError({ code: "unknown-source", asked: source, allowed: Object.keys(sources) });
  if ((ref.branch === undefined) === (ref.commit === undefined)) throw new DomainError({ code: "bad-ref", ref: "", why: "name either a branch or a commit" });
  const refresh = sources[source]!.refresh;
  let branches: Map<string, string> | undefined;
  let fetchError: string | undefined;
  const loadBranches = async (maxAgeMs = refresh) => {
    branches = await runner.mirrors.branches(source, maxAgeMs).catch((error: Error) => {
      fetchError = error.message;
      return undefined;
    });
  };
  if (ref.branch !== undefined) {
    const branch = await checkBranchName(ref.branch);
    branches = await knownBranches(runner, source, branch);
    const label = branchLabel(source, branch);
    const newest = branches?.get(branch);
    const live = hosts.get(label);
    if (live && newest && servedCommit(live) === newest.slice(0, 12) && live.status !== "failed") {
      hosts.wake(label);
      return { label };
    }
    return { label, build: (await runner.request(source, { branch })).build };
  }
  const asked = checkCommitId(ref.commit);
  const { mirror } = runner.mirrors.get(source);
  let commit = await mirror.resolveCommit(asked).catch(() => undefined);
  if (!commit) {
    await loadBranches(0);
    commit = await mirror.resolveCommit(asked).catch(() => undefined);
    if (!commit && branches) throw new DomainError({ code: "unknown-ref", source, ref: asked, kind: "commit", branches: [...branches.keys()].sort().slice(0, 50) });
    // Unreachable and too short to name a stable host: the person must come back.
    if (!commit && asked.length < 12) throw new DomainError({ code: "repo-unreachable", source, why: fetchError ?? "unknown", retryAfterSeconds: 30 });
  }
  const full = commit ?? asked;
  const label = commitLabel(source, full);
  const live = hosts.get(label);
  if (live && live.status !== "failed") {
    hosts.wake(label);
    return { label };
  }
  return { label, build: (await runner.request(source, { commit: full })).build };
}

/**
 * The build behind a preview host, for its page: the newest one, or, when there is none (the preview was
 * removed, the builds list forgot it), one queued now from what the label says (a commit host names its
 * commit; a branch host is found among the branches). Undefined when the label names nothing.
 */
export async function buildForHost(runner: BuildRunner, label: string, live: boolean): Promise<Build | undefined> {
  const latest = runner.latestFor(label);
  // A ready build whose preview is gone (removed, or ended after `keep`) is served again: its image is
  // reused when it is still there, rebuilt when not.
  // A pull request's host is built from its webhooks only: once closed it stays closed.
  if (latest && (live || latest.state !== "ready" || latest.host)) return latest;
  if (latest) return (await runner.request(latest.source, refServedAt(label, latest))).build;
  const parsed = parsePreviewLabel(label);
  if (!parsed || !Object.hasOwn(runner.sources, parsed.source)) return undefined;
  if (parsed.commit) {
    const opened = await openPreview(runner, { get: () => undefined, wake: () => false }, parsed.source, { commit: parsed.commit }).catch(() => undefined);
    return opened?.build;
  }
  const find = async (maxAgeMs: number) => {
    const branches = await runner.mirrors.branches(parsed.source, maxAgeMs).catch(() => undefined);
    return [...(branches?.keys() ?? [])].find((name) => branchLabel(parsed.source, name) === label);
  };
  // Not among the branches of the last refresh: looked up again (at most every 10 s), it may be new.
  const branch = (await find(runner.sources[parsed.source]!.refresh)) ?? (await find(10_000));
  return branch ? (await runner.request(parsed.source, { branch })).build : undefined;
}

/** What to build again for this host: the branch at a branch host, the exact commit at a commit host. */
export function refServedAt(label: string, build: Build): { branch: string } | { commit: string | undefined } {
  return build.branch && branchLabel(build.source, build.branch) === label ? { branch: build.branch } : { commit: build.commit };
}
