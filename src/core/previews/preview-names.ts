// Host labels of previews: one per commit, one per branch; valid DNS labels that no visitor id or other preview can take.
import { createHash } from "node:crypto";

/** A source's name: short, no hyphen, so the first hyphen of a label always ends the source. */
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9]{0,19}$/;
export const COMMIT_PATTERN = /^[0-9a-f]{7,40}$/;
const MAX_LABEL = 63;
const HASH_LENGTH = 7;
/** What ends a change's host: `pr-<n>` for GitHub's pull requests, `mr-<n>` for GitLab's merge requests. */
const CHANGE_SUFFIX = /^(pr|mr)-\d+$/;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/**
 * `<source>-commit-<first 12 hex>`: stable for the commit. Visitor ids have no hyphen, so neither label kind
 * can be taken for one.
 */
export function commitLabel(source: string, commit: string): string {
  return `${source}-commit-${commit.slice(0, 12)}`;
}

/**
 * `<source>-<branch as a DNS label>`. When that loses anything (case, slashes, other characters, length) or
 * could be read as a commit label, a hash of the exact branch name is appended, so two branches never share a
 * host: `feature/Login` → `web-feature-login-1a2b3c4`.
 */
export function branchLabel(source: string, branch: string): string {
  const slug = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const plain = `${source}-${slug}`;
  const exact = slug === branch && slug.length > 0 && !slug.startsWith("commit-") && !CHANGE_SUFFIX.test(slug) && plain.length <= MAX_LABEL;
  if (exact) return plain;
  const room = MAX_LABEL - source.length - HASH_LENGTH - 2;
  const cut = slug.slice(0, room).replace(/-+$/, "");
  return cut ? `${source}-${cut}-${shortHash(branch)}` : `${source}-${shortHash(branch)}`;
}

/** The hosts a build serves: its commit's (once known) and, when a branch was asked for, the branch's. */
export function previewLabels(build: { source: string; branch?: string; commit?: string; host?: string }): string[] {
  const labels: string[] = build.host ? [build.host] : [];
  if (build.commit) labels.push(commitLabel(build.source, build.commit));
  if (build.branch) labels.push(branchLabel(build.source, build.branch));
  return labels;
}

/**
 * The host a build is served at when it is ready: the branch's when a branch was asked for, else the commit's.
 * A branch build's commit host is started only when someone opens it (its image is reused then).
 */
export function servedLabel(build: { source: string; branch?: string; commit?: string; host?: string }): string | undefined {
  if (build.host) return build.host;
  if (build.branch) return branchLabel(build.source, build.branch);
  return build.commit ? commitLabel(build.source, build.commit) : undefined;
}

/** What a preview host label says by itself: its source, and the commit prefix of a commit host. */
export function parsePreviewLabel(label: string): { source: string; commit?: string } | undefined {
  const match = /^([a-z][a-z0-9]{0,19})-(.+)$/.exec(label);
  if (!match) return undefined;
  const commit = /^commit-([0-9a-f]{12})$/.exec(match[2]!);
  return { source: match[1]!, ...(commit ? { commit: commit[1]! } : {}) };
}

const CHANGE_MARK = { github: "pr", gitlab: "mr" } as const;

/**
 * A pull or merge request's host: `<source>-pr-<n>` (GitHub) or `<source>-mr-<n>` (GitLab), stable for its life; no
 * branch or commit label has this shape (a branch called `pr-5` gets a hash).
 */
export function pullRequestLabel(source: string, pr: number, forge: keyof typeof CHANGE_MARK = "github"): string {
  return `${source}-${CHANGE_MARK[forge]}-${pr}`;
}

/** The change a host serves, when it is a pull or merge request's. */
export function changeOfLabel(label: string): { source: string; forge: keyof typeof CHANGE_MARK; number: number } | undefined {
  const match = /^([a-z][a-z0-9]{0,19})-(pr|mr)-(\d+)$/.exec(label);
  return match ? { source: match[1]!, forge: match[2] === "mr" ? "gitlab" : "github", number: Number(match[3]) } : undefined;
}
