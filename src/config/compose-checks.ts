// What an app, preview source or repository must say together: an image and port, or a Compose file and what goes with it; pure, each problem with its key.
import type { StateSource } from "../core/state/state-sources.js";
import { sharedDumpTarget, sharedSeedName, type PreviewStateConfig } from "./preview-schema.js";

export interface KeyProblem {
  /** Below the app's (or source's) own key. */
  path: PropertyKey[];
  message: string;
}

/** An app: an image and port, or a Compose file; state sources name a service exactly when it has one. */
export function appProblems(app: { compose?: string | undefined; image?: string | undefined; port?: number | undefined; route?: unknown; routes?: unknown[] | undefined; profiles?: unknown; state?: { sources: Record<string, StateSource> } | undefined }, swarm: boolean): KeyProblem[] {
  const problems: KeyProblem[] = [];
  const sources = Object.entries(app.state?.sources ?? {});
  if (app.compose !== undefined) {
    if (app.image !== undefined) problems.push({ path: ["image"], message: "must be left out when the app names a compose file (the file says which images run)" });
    if (app.port !== undefined) problems.push({ path: ["port"], message: "must be left out when the app names a compose file (route: { service, port } says where nginx goes)" });
    for (const [name, source] of sources) {
      if (source.kind === "snapshot") problems.push({ path: ["state", "sources", name, "kind"], message: "must be dump for an app of several services (a snapshot saves one container; name the database's service and its dump)" });
      else if (source.service === undefined) problems.push({ path: ["state", "sources", name, "service"], message: "must name the service whose container runs the database (the app names a compose file)" });
    }
  } else {
    if (app.image === undefined) problems.push({ path: ["image"], message: "must be an image reference such as demo-launcher/hello:latest, or the app must name a compose file instead" });
    if (app.port === undefined) problems.push({ path: ["port"], message: "must be the port the app listens on inside its container" });
    for (const key of ["route", "routes", "profiles"] as const) if (app[key] !== undefined) problems.push({ path: [key], message: "must be left out: it applies only to an app that names a compose file" });
    for (const [name, source] of sources) {
      if (source.kind === "dump" && source.service !== undefined) problems.push({ path: ["state", "sources", name, "service"], message: "must be left out: it applies only to an app that names a compose file (the demo is one container)" });
    }
  }
  problems.push(...routesProblems(app, swarm));
  return problems;
}

/** What a preview source (or a repository's) must say together: an image's port, or a Compose file and no Dockerfile. */
export function previewProblems(preview: { compose?: string | undefined; port?: number | undefined; dockerfile?: string | undefined; context?: string | undefined; route?: unknown; routes?: unknown[] | undefined; profiles?: unknown; state?: PreviewStateConfig | undefined }, swarm: boolean, config: SeedContext): KeyProblem[] {
  const problems: KeyProblem[] = seedProblems(preview, swarm, config);
  if (preview.compose !== undefined) {
    for (const key of ["dockerfile", "context", "port"] as const) if (preview[key] !== undefined) problems.push({ path: [key], message: `must be left out with compose (the file says what each service builds${key === "port" ? "; route: { service, port } says where nginx goes" : ""})` });
    problems.push(...routesProblems(preview, swarm));
  } else {
    if (preview.port === undefined) problems.push({ path: ["port"], message: "must be the port the app listens on inside its container (or the source must name a compose file instead)" });
    for (const key of ["route", "routes", "profiles"] as const) if (preview[key] !== undefined) problems.push({ path: [key], message: "must be left out: it applies only to a source that names a compose file" });
  }
  return problems;
}

/** Further routed services: beside a named first one, each name once (it is part of a host). */
function routesProblems(entry: { route?: unknown; routes?: unknown[] | undefined }, swarm: boolean): KeyProblem[] {
  if (!entry.routes?.length) return [];
  if (swarm) return [{ path: ["routes"], message: "is not available with runtime: swarm (an environment on a swarm has one routed service, route:)" }];
  if (entry.route === undefined) return [{ path: ["route"], message: "must name the first routed service (the demo's own host) when routes: names further ones" }];
  const names = (entry.routes as Array<{ name: string }>).map((route) => route.name);
  return names.flatMap((name, index) => (names.indexOf(name) !== index ? [{ path: ["routes", index, "name"], message: `must be unique: ${name} is named twice (it becomes the host ${name}-<id>.<domain>)` }] : []));
}

type SeedContext = { shared: Record<string, { app: string; source?: string | undefined }>; apps: Parameters<typeof sharedDumpTarget>[1] };

/** A seed names a shared demo that exists and says where its database is, of the same kind as the preview's. */
function seedProblems(preview: { compose?: string | undefined; state?: PreviewStateConfig | undefined }, swarm: boolean, config: SeedContext): KeyProblem[] {
  const state = preview.state;
  if (!state) return [];
  // The swarm runtime runs commands in containers but copies no files into them: a seed could never be loaded.
  if (swarm) return [{ path: ["state"], message: "is not available with runtime: swarm (the seed is copied into the database's container, which the swarm runtime cannot do); leave it out or run on one host" }];
  const problems: KeyProblem[] = [];
  if (preview.compose !== undefined && state.service === undefined) problems.push({ path: ["state", "service"], message: "must name the service of the Compose file whose container holds the database, such as db" });
  if (preview.compose === undefined && state.service !== undefined) problems.push({ path: ["state", "service"], message: "must be left out: it applies only to a source that names a compose file" });
  const shared = sharedSeedName(state.from);
  if (shared === undefined) return problems;
  if (!Object.hasOwn(config.shared, shared)) return [...problems, { path: ["state", "from"], message: `names no shared demo: ${Object.keys(config.shared).length ? `the shared demos are ${Object.keys(config.shared).join(", ")}` : "shared: configures none"}` }];
  const target = sharedDumpTarget(config.shared[shared], config.apps);
  if (!target) problems.push({ path: ["state", "from"], message: `needs a state source of kind dump under apps.${config.shared[shared]!.app}.state: it says which database of shared/${shared} to dump` });
  else if ((target.driver === "postgres") !== (state.driver === "postgres")) problems.push({ path: ["state", "driver"], message: `must be a driver of the same database as shared/${shared} (${target.driver}): a dump of one does not load into the other` });
  return problems;
}
