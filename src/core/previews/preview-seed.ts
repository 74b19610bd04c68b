// A preview's database seeded before it is routed: from its source's seed on a fresh start, from the previous instance on a push.
import { describeError } from "../errors.js";
import type { Ports } from "../context.js";
import type { AppSpec } from "../app-spec.js";
import { healthyInstances, type Demo, type Instance } from "../model.js";
import { RestoreFailure, type PreviewSeed, type SeedLoad } from "../state/state-sources.js";

/** undefined when the seed went in (or there is none to load); otherwise why it did not, for the demo's page. */
export type SeedOutcome = string | undefined;

/**
 * Seeds the fresh instance of a preview whose source has a seed (its first start, "Start fresh", a restart from
 * scratch). Runs once the instance answers and before it is routed: nobody sees the preview without its data.
 */
export async function seedFreshInstance(ctx: Ports<"logger" | "options" | "registry">, demo: Demo, app: Pick<AppSpec, "seed">, instance: Instance): Promise<SeedOutcome> {
  if (!app.seed || !instance.containerId) return undefined;
  return runSeed(ctx, demo, instance, app.seed, undefined);
}

/**
 * A push's new instance of a seeded preview. An environment keeps its volumes across pushes, so its database already
 * holds the previous preview's rows: it is seeded again only with `onPush: seed`. A single container starts with its
 * image's empty database: it gets the rows of the instance it replaces (`keep`) or the seed again (`seed`).
 */
export async function seedReplacement(ctx: Ports<"logger" | "options" | "registry">, demo: Demo, app: Pick<AppSpec, "seed" | "environment">, next: Instance, previous: Instance | undefined): Promise<SeedOutcome> {
  const seed = app.seed;
  if (!seed || !next.containerId) return undefined;
  if (seed.onPush === "keep" && app.environment) return undefined;
  return runSeed(ctx, demo, next, seed, seed.onPush === "keep" ? previous?.containerId : undefined);
}

async function runSeed(ctx: Ports<"logger" | "options" | "registry">, demo: Demo, instance: Instance, seed: PreviewSeed, previous: string | undefined): Promise<SeedOutcome> {
  const load = seedLoad(ctx, demo, seed, previous);
  if (typeof load === "string") return load;
  if (load === undefined) return undefined;
  if (!ctx.options.seeder) return "this controller cannot seed databases (its container runtime cannot run commands in containers)";
  try {
    await ctx.options.seeder.seed(demo, instance.containerId!, load);
    return undefined;
  } catch (error) {
    return `its data could not be seeded: ${error instanceof RestoreFailure ? error.message : describeError(error)}`;
  }
}

/**
 * What to load: the previous instance's rows as they are (they were scrubbed when they came in), a shared demo's
 * rows or the commit's file, each scrubbed. A preview built from a fork nobody vouched for never gets a shared demo's
 * rows: its own commit's scrub file would decide what of them it sees. A string says why nothing can be loaded.
 */
export function seedLoad(ctx: Ports<"logger" | "registry">, demo: Demo, seed: PreviewSeed, previous: string | undefined): SeedLoad | string | undefined {
  const scrub = seed.scrub ? { scrub: seed.scrub } : {};
  if (previous) return { target: seed.target, from: { kind: "database", containerId: previous, target: seed.target } };
  if (seed.from.kind === "file") return { target: seed.target, from: { kind: "file", path: seed.from.path }, ...scrub };
  if (demo.withoutEnv) {
    ctx.logger.info(`preview ${demo.id}: not seeded from shared/${seed.from.name}: it was built from a fork nobody vouched for`);
    return undefined;
  }
  const shared = ctx.registry.get(seed.from.name);
  const source = shared && shared.kind === "shared" ? healthyInstances(shared).find((instance) => instance.containerId) : undefined;
  if (!source) return `its data comes from the shared demo ${seed.from.name}, which is not running`;
  return { target: seed.target, from: { kind: "database", containerId: source.containerId!, target: seed.from.target }, ...scrub };
}
