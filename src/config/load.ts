// Reads the YAML config file (an edge) and turns the parsed settings into the runtime Config.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConfigError, parseConfig, type Address, type AppConfig, type RawConfig } from "./schema.js";
import { sourceNameOf } from "./github-schema.js";
import { gitlabCloneUrl } from "./gitlab-schema.js";

/** A repository or project whose pull or merge requests get previews: its preview source's name and who is trusted. */
export interface ForgeProject {
  source: string;
  trust: string;
  /** Who may run comment commands: people who may push, the change's author too, or nobody. */
  commands: "push" | "author" | "off";
  /** How long the share link in a gated preview's comment lasts; none without. */
  shareInComment?: number;
}

export interface Config extends Omit<RawConfig, "apps" | "publicScheme"> {
  publicScheme: "http" | "https";
  apps: Record<string, AppConfig>;
  /** owner/name → its source; the repositories are preview sources too (in `previews`). */
  githubRepos: Record<string, ForgeProject>;
  /** group/project → its source; the projects are preview sources too (in `previews`). */
  gitlabProjects: Record<string, ForgeProject>;
  /** Absolute; relative paths in the file are taken from the file's own directory. */
  stateDir: string;
  nginx: RawConfig["nginx"] & { configDir: string; controller: Address; probeUrl: string };
  /** Where the file came from, for messages. */
  source: string;
}

export function resolveConfig(raw: RawConfig, baseDir: string, source: string, env: NodeJS.ProcessEnv = {}): Config {
  const nginxHost = raw.nginx.listen.host === "0.0.0.0" ? "127.0.0.1" : raw.nginx.listen.host;
  const adminToken = env.DEMO_LAUNCHER_ADMIN_TOKEN ?? raw.adminToken;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError("DEMO_LAUNCHER_ADMIN_TOKEN", [{ key: "DEMO_LAUNCHER_ADMIN_TOKEN", message: "must be at least 16 characters" }]);
  }
  const oidc = raw.admin.oidc ? { ...raw.admin.oidc, clientSecret: env.DEMO_LAUNCHER_OIDC_CLIENT_SECRET ?? raw.admin.oidc.clientSecret } : undefined;
  if (oidc && !oidc.clientSecret) {
    throw new ConfigError(source, [{ key: "admin.oidc.clientSecret", message: "is missing; it must be the client secret the provider gave this console (or set DEMO_LAUNCHER_OIDC_CLIENT_SECRET)" }]);
  }
  const forgeSources: RawConfig["previews"] = {};
  // Each forge's projects become preview sources: built by commit (the branch list refresh does not apply to them).
  const projectsOf = (section: string, entries: Record<string, NonNullable<RawConfig["github"]>["repos"][string]>, cloneUrl: (path: string) => string): Record<string, ForgeProject> => {
    const projects: Record<string, ForgeProject> = {};
    for (const [projectPath, settings] of Object.entries(entries)) {
      const { name, repo, trust, commands, shareInComment, ...build } = settings;
      const sourceName = sourceNameOf(projectPath, name);
      if (Object.hasOwn(raw.previews, sourceName) || Object.hasOwn(forgeSources, sourceName)) {
        throw new ConfigError(source, [{ key: `${section}.${projectPath}.name`, message: `the source name ${JSON.stringify(sourceName)} is taken by another preview source; give this ${section.startsWith("github") ? "repository" : "project"} a name of its own` }]);
      }
      projects[projectPath] = { source: sourceName, trust, commands, ...(shareInComment !== undefined ? { shareInComment } : {}) };
      forgeSources[sourceName] = { ...build, repo: repo ?? cloneUrl(projectPath), refresh: 3_600_000 };
    }
    return projects;
  };
  const githubRepos = projectsOf("github.repos", raw.github?.repos ?? {}, (ownerRepo) => `https://github.com/${ownerRepo}.git`);
  const gitlabProjects = projectsOf("gitlab.projects", raw.gitlab?.projects ?? {}, (projectPath) => gitlabCloneUrl(raw.gitlab!.apiUrl, projectPath));
  const previews = { ...raw.previews, ...forgeSources };
  // An app with a compose file gets its image and port from the file when the controller starts (prepareEnvironments).
  const apps = Object.fromEntries(Object.entries(raw.apps).map(([name, app]) => [name, { ...app, image: app.image ?? "", port: app.port ?? 0, ...(app.compose ? { composeRoot: baseDir } : {}) }]));
  return {
    ...raw,
    apps,
    githubRepos,
    gitlabProjects,
    ...(adminToken ? { adminToken } : {}),
    admin: { ...raw.admin, ...(oidc ? { oidc } : {}) },
    source,
    stateDir: path.resolve(baseDir, raw.stateDir),
    ...(raw.templatesDir ? { templatesDir: path.resolve(baseDir, raw.templatesDir) } : {}),
    // A repo given as a path is taken from the file's directory, like every other path.
    // A source without a Compose file builds its Dockerfile (default: Dockerfile at the repository's root).
    previews: Object.fromEntries(Object.entries(previews).map(([name, preview]) => [name, { ...preview, ...(preview.compose ? {} : { dockerfile: preview.dockerfile ?? "Dockerfile", context: preview.context ?? "." }), repo: /^[a-z]+:\/\/|^[^/]*@[^/]*:/.test(preview.repo) ? preview.repo : path.resolve(baseDir, preview.repo) }])),
    publicScheme: raw.publicScheme ?? (raw.tls ? "https" : "http"),
    ...(raw.tls ? { tls: resolveTlsPaths(raw.tls, baseDir) } : {}),
    brand: { ...raw.brand, ...(raw.brand.logo ? { logo: path.resolve(baseDir, raw.brand.logo) } : {}) },
    registries: Object.fromEntries(Object.entries(raw.registries).map(([host, entry]) => [host, { ...entry, ...(entry.passwordFile ? { passwordFile: path.resolve(baseDir, entry.passwordFile) } : {}) }])),
    nginx: {
      ...raw.nginx,
      configDir: path.resolve(baseDir, raw.nginx.configDir),
      // Requests to previews are logged for idle stop only where previews exist.
      ...(raw.nginx.seenLog || Object.keys(previews).length > 0 ? { seenLog: path.resolve(baseDir, raw.nginx.seenLog ?? path.join(raw.stateDir, "nginx-seen.log")) } : {}),
      controller: raw.nginx.controller ?? raw.listen,
      probeUrl: raw.nginx.probeUrl ?? `http://${nginxHost.includes(":") ? `[${nginxHost}]` : nginxHost}:${raw.nginx.listen.port}`,
    },
  };
}

/** The TLS section's files, taken from the config file's folder like every other path. */
function resolveTlsPaths(tls: NonNullable<RawConfig["tls"]>, baseDir: string): NonNullable<RawConfig["tls"]> {
  const at = (file: string) => path.resolve(baseDir, file);
  const { acme } = tls;
  const dns = acme?.dns.provider === "rfc2136" && acme.dns.keySecretFile ? { ...acme.dns, keySecretFile: at(acme.dns.keySecretFile) } : acme?.dns;
  return {
    ...tls,
    ...(tls.certificate && tls.key ? { certificate: at(tls.certificate), key: at(tls.key) } : {}),
    ...(acme && dns ? { acme: { ...acme, dns, ...(acme.directoryCa ? { directoryCa: at(acme.directoryCa) } : {}), ...(acme.accountKey ? { accountKey: at(acme.accountKey) } : {}) } } : {}),
  };
}

/** Parses YAML text; pure. */
export function parseConfigText(text: string, source: string, baseDir: string, env: NodeJS.ProcessEnv = {}): Config {
  let data: unknown;
  try {
    // Warnings (odd keys and the like) would go to process warnings; the schema reports what matters.
    data = parseYaml(text, { logLevel: "error" });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? `line ${error.linePos[0].line}` : "(file)";
    throw new ConfigError(source, [{ key: where, message: `is not valid YAML: ${(error as Error).message.split("\n")[0]}` }]);
  }
  return resolveConfig(parseConfig(data, source), baseDir, source, env);
}

/** Loads the file given with --config, or the embedded defaults when there is none. */
export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Config> {
  if (!file) return resolveConfig(parseConfig({}, "defaults"), cwd, "defaults", env);
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ key: "--config", message: code === "ENOENT" ? `${JSON.stringify(file)} does not exist` : `${JSON.stringify(file)} cannot be read (${code ?? "error"})` }]);
  }
  return parseConfigText(text, file, path.dirname(absolute), env);
}

/** Where a config came from, as another process can find it: the embedded defaults, or the file's absolute path. */
export function configPath(config: Pick<Config, "source">): string {
  return config.source === "defaults" ? "defaults" : path.resolve(config.source);
}
