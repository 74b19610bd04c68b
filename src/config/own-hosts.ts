// Demos' own names outside the domain: a shared demo's (shared.<name>.hosts) and a branch preview's
// (previews.<source>.hosts: { <branch>: <name> }). Which demo each belongs to, and the names that cannot be.
import { branchLabel } from "../core/previews/preview-names.js";

interface OwnHostsConfig {
  domain: string;
  admin: { host?: string | undefined };
  apps: Record<string, { access?: { mode: string } | undefined }>;
  shared: Record<string, { app: string; hosts: string[]; access?: { mode: string } | undefined }>;
  previews: Record<string, { hosts?: Record<string, string> | undefined; access?: { mode: string } | undefined }>;
}

/** Each own name → the id of its demo: the shared demo's name, or the branch preview's label (`web-main`). */
export function ownHostOwners(config: Pick<OwnHostsConfig, "shared" | "previews">): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [name, shared] of Object.entries(config.shared)) for (const host of shared.hosts) owners.set(host, name);
  for (const [source, preview] of Object.entries(config.previews)) for (const [branch, host] of Object.entries(preview.hosts ?? {})) owners.set(host, branchLabel(source, branch));
  return owners;
}

/** A demo's own names, routed beside its host; visitors' demos have none. */
export function ownHostsOf(config: Pick<OwnHostsConfig, "shared" | "previews">, demo: { kind: string; id: string; app: string }): string[] {
  if (demo.kind === "shared") return Object.hasOwn(config.shared, demo.id) ? config.shared[demo.id]!.hosts : [];
  if (demo.kind !== "preview" || !Object.hasOwn(config.previews, demo.app)) return [];
  return Object.entries(config.previews[demo.app]!.hosts ?? {}).filter(([branch]) => branchLabel(demo.app, branch) === demo.id).map(([, host]) => host);
}

/** Names that cannot be: under the domain (a demo's host already), the console's, taken twice, or on a gated demo. */
export function ownHostProblems(config: OwnHostsConfig): Array<{ path: (string | number)[]; message: string }> {
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  const owner = new Map<string, string>();
  const check = (path: (string | number)[], host: string, who: string, mode: string, example: string) => {
    if (host === config.domain || host.endsWith(`.${config.domain}`)) problems.push({ path, message: `must be outside ${config.domain}: names under it are demos' hosts (this one is ${example})` });
    else if (host === config.admin.host) problems.push({ path, message: "is the console's host (admin.host)" });
    else if (owner.has(host)) problems.push({ path, message: `is already a name of ${owner.get(host)}` });
    else owner.set(host, who);
    // A gate's sign-in and cookies live on the domain: a name outside it could not carry them.
    if (mode !== "public") problems.push({ path, message: `must not be given while the demo's access is ${mode}: names of its own serve public demos only (sign-in and its cookies belong to ${config.domain})` });
  };
  for (const [name, shared] of Object.entries(config.shared)) {
    const mode = shared.access?.mode ?? (Object.hasOwn(config.apps, shared.app) ? config.apps[shared.app]!.access?.mode : undefined) ?? "public";
    shared.hosts.forEach((host, index) => check(["shared", name, "hosts", index], host, `shared demo ${name}`, mode, `${name}.${config.domain}`));
  }
  for (const [source, preview] of Object.entries(config.previews)) {
    for (const [branch, host] of Object.entries(preview.hosts ?? {})) check(["previews", source, "hosts", branch], host, `the preview of ${source}'s branch ${branch}`, preview.access?.mode ?? "public", `${branchLabel(source, branch)}.${config.domain}`);
  }
  return problems;
}
