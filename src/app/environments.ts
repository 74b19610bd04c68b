// Apps that name a Compose file: each file read and checked once when the controller starts, then read again for every demo with its own values.
import path from "node:path";
import { folderFiles, readCompose, type ProjectFiles } from "../compose/load.js";
import { ConfigError, type AppConfig } from "../config/schema.js";
import type { Config } from "../config/load.js";
import { DEFAULT_CAPABILITIES } from "../core/app-spec.js";
import { formatBytes } from "../core/demos/disk.js";
import { DEMO_VARIABLES } from "../core/demos/demo-env.js";
import { cappedLimit, type EnvironmentTemplate } from "../core/environments/environment-spec.js";

/** Values that stand in for a demo's own while the file is checked at start (a `${DEMO_ID:?}` must not fail there). */
const CHECK_VALUES: Record<string, string> = Object.fromEntries(DEMO_VARIABLES.map((name) => [name, `checking-${name.toLowerCase()}`]));
/** What a warm pool's environment is read with: made before its visitor comes, it has no end of a time box yet. */
const { DEMO_EXPIRES_AT: _unknownAhead, ...CHECK_VALUES_AHEAD } = CHECK_VALUES;

/**
 * Reads every app's Compose file and gives the app its routed service's image and port and a template that reads
 * the file for each demo. Every problem of every file is reported together, each under `apps.<name>.compose`.
 */
export async function prepareEnvironments(config: Config): Promise<Config> {
  const problems: Array<{ key: string; message: string }> = [];
  const apps: Record<string, AppConfig> = {};
  for (const [name, app] of Object.entries(config.apps)) {
    // Not a Compose app, or read already (up reads the files before it starts the controller, which would again).
    if (!app.compose || app.environment) {
      apps[name] = app;
      continue;
    }
    const template = composeTemplate(app.composeRoot ?? path.dirname(path.resolve(config.source)), app.compose, app);
    const checked = await template.render({ ...app.env, ...CHECK_VALUES });
    if (!checked.ok) {
      for (const problem of checked.problems) problems.push({ key: `apps.${name}.compose`, message: problem });
      continue;
    }
    const ahead = app.pool > 0 ? await template.render({ ...app.env, ...CHECK_VALUES_AHEAD }) : checked;
    if (!ahead.ok) {
      for (const problem of ahead.problems) problems.push({ key: `apps.${name}.pool`, message: `${problem} (a warm pool's environments are made before their visitor comes, when DEMO_EXPIRES_AT is not known: write \${DEMO_EXPIRES_AT:-} or keep no pool)` });
      continue;
    }
    const names = checked.environment.services.map((service) => service.name);
    for (const [sourceName, source] of Object.entries(app.state?.sources ?? {})) {
      if (source.kind === "dump" && source.service !== undefined && !names.includes(source.service)) problems.push({ key: `apps.${name}.state.sources.${sourceName}.service`, message: `${JSON.stringify(source.service)} is not a service of ${app.compose}; its services: ${names.join(", ")}` });
    }
    const route = checked.environment.routes[0]!;
    const routed = checked.environment.services.find((service) => service.name === route.service)!;
    const unnamed = checked.environment.services.filter((service) => !service.image);
    if (unnamed.length > 0) {
      problems.push({ key: `apps.${name}.compose`, message: `${unnamed.map((service) => service.name).join(", ")} ${unnamed.length === 1 ? "has" : "have"} build but no image: an app's services run images, so name the image the build makes (image: beside build:) and build it before the controller starts` });
      continue;
    }
    // What one demo is given in all: each service its own limit, at most the app's, the app's when it names none.
    const demoMemory = checked.environment.services.reduce((sum, service) => sum + cappedLimit(service.limits.memory, app.memory), 0);
    if (config.limits.memory !== undefined && demoMemory > config.limits.memory) {
      problems.push({ key: `apps.${name}.compose`, message: `one demo would be given ${formatBytes(demoMemory)} (its ${checked.environment.services.length} services' memory limits), more than limits.memory (${formatBytes(config.limits.memory)}): it could never start` });
      continue;
    }
    apps[name] = { ...app, image: routed.image!, port: route.port, environment: template, demoMemory, serviceImages: Object.fromEntries(checked.environment.services.map((service) => [service.name, service.image!])) };
  }
  if (problems.length > 0) throw new ConfigError(config.source, problems);
  return { ...config, apps };
}

/** A template over the files of `root`; the files are read once and kept (a launch reads none from disk). */
export function composeTemplate(root: string, file: string, app: Pick<AppConfig, "capabilities" | "profiles" | "route" | "routes">): EnvironmentTemplate {
  const files = cachedFiles(folderFiles(root));
  return {
    file,
    projectRoot: root,
    render: async (variables) => {
      const reading = await readCompose({
        files,
        file,
        variables,
        capabilities: app.capabilities ?? DEFAULT_CAPABILITIES,
        ...(app.profiles ? { profiles: app.profiles } : {}),
        ...(app.route ? { routes: [app.route, ...(app.routes ?? [])] } : {}),
        platform: "linux/amd64",
      });
      return reading.ok ? { ok: true, environment: reading.environment } : { ok: false, problems: reading.problems };
    },
  };
}

function cachedFiles(files: ProjectFiles): ProjectFiles {
  const texts = new Map<string, Promise<string | undefined>>();
  const exists = new Map<string, Promise<boolean>>();
  return {
    describe: files.describe,
    read: (relative) => texts.get(relative) ?? (texts.set(relative, files.read(relative)), texts.get(relative)!),
    exists: (relative) => exists.get(relative) ?? (exists.set(relative, files.exists(relative)), exists.get(relative)!),
  };
}
