// A preview of a Compose repository, built from one commit: its files checked out once (what services copy in comes from there), every service with build: built by our builder with one image per service and build context (a push that leaves a context alone reuses its image), the routed service's image tagged as the commit's.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import { extract } from "tar-fs";
import { folderFiles, readCompose } from "../compose/load.js";
import { DEMO_VARIABLES } from "../core/demos/demo-env.js";
import { DEFAULT_CAPABILITIES } from "../core/app-spec.js";
import type { EnvironmentTemplate, RoutedService } from "../core/environments/environment-spec.js";
import { PREVIEW_IMAGE_REPO, previewImageTag, type ImageBuilder, type ImageBuildRequest } from "./image-builder.js";
import type { GitMirror } from "./git.js";
import { BuildFailure } from "./commit-to-build.js";

/** What a source says of its Compose file (config: previews.<source>.compose, route, profiles). */
export interface ComposeSource {
  compose: string;
  route?: RoutedService;
  /** Further routed services, each on a host of its own. */
  routes?: RoutedService[];
  profiles?: readonly string[];
  capabilities: readonly string[];
}

/** A source's Compose settings, or undefined when it builds a Dockerfile. */
export function composeSourceOf(preview: { compose?: string | undefined; route?: RoutedService | undefined; routes?: RoutedService[] | undefined; profiles?: string[] | undefined; capabilities?: string[] | undefined }): ComposeSource | undefined {
  if (!preview.compose) return undefined;
  return { compose: preview.compose, ...(preview.route ? { route: preview.route } : {}), ...(preview.routes?.length ? { routes: preview.routes } : {}), ...(preview.profiles ? { profiles: preview.profiles } : {}), capabilities: preview.capabilities ?? DEFAULT_CAPABILITIES };
}

/** Where one commit's files are kept on this machine: `<stateDir>/checkouts/<source>/<commit>`. */
export function checkoutDir(stateDir: string, source: string, commit: string): string {
  return path.join(stateDir, "checkouts", source, commit);
}

/** The images a commit's services run, written by its build: service → tag. */
function imagesFile(dir: string): string {
  return `${dir}.images.json`;
}

/**
 * The commit's files, from `git archive` (never a working tree the repository's hooks could touch). A symbolic link
 * that leads out of the checkout is left out: a file the Compose file reads or copies in must be the repository's,
 * never the host's.
 */
async function checkout(mirror: GitMirror, commit: string, dir: string): Promise<void> {
  if (await stat(dir).catch(() => undefined)) return;
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await pipeline(
    mirror.archive(commit),
    extract(partial, {
      ignore: (_name, header) => header?.type === "symlink" && escapes(header.name, (header as { linkname?: string }).linkname ?? ""),
    }),
  );
  await rename(partial, dir);
}

function escapes(name: string, target: string): boolean {
  if (path.posix.isAbsolute(target)) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
  return resolved === ".." || resolved.startsWith("../");
}

/** What interpolates while a commit is built: its own facts; a demo's (its id, its URL) are not known yet. */
function buildVariables(source: string, commit: string, branch: string | undefined): Record<string, string> {
  const placeholders = Object.fromEntries(DEMO_VARIABLES.map((name) => [name, `building-${name.toLowerCase()}`]));
  return { ...placeholders, DEMO_KIND: "preview", DEMO_SOURCE: source, DEMO_COMMIT: commit, DEMO_BRANCH: branch ?? "", DEMO_PR: "" };
}

/**
 * Builds every service of the commit's Compose file that has build: (each service's image is keyed by its context's
 * tree id, Dockerfile, args and target, so an unchanged context is reused, not built), checks that every other image
 * is named, and tags the routed service's image `demo-launcher-preview/<source>:<commit>`: the preview's image.
 */
export async function buildEnvironment(request: Omit<ImageBuildRequest, "dockerfile" | "context" | "service">, compose: ComposeSource, stateDir: string, mirror: GitMirror, builder: Pick<ImageBuilder, "build">, docker: Docker, pull: (image: string) => Promise<void>): Promise<string> {
  const dir = checkoutDir(stateDir, request.source, request.commit);
  await checkout(mirror, request.commit, dir);
  const reading = await readCompose({ files: folderFiles(dir), file: compose.compose, variables: buildVariables(request.source, request.commit, request.ref), capabilities: compose.capabilities, ...(compose.profiles ? { profiles: compose.profiles } : {}), ...(compose.route ? { routes: [compose.route, ...(compose.routes ?? [])] } : {}), platform: "linux/amd64" });
  if (!reading.ok) throw new BuildFailure(`its Compose file cannot run: ${reading.problems.join("; ")}`);
  const images: Record<string, string> = {};
  for (const service of reading.environment.services) {
    if (!service.build) continue;
    const tree = await mirror.treeId(request.commit, service.build.context).catch((error: Error) => {
      throw new BuildFailure(`service ${service.name}: ${error.message} (its build context)`);
    });
    const dockerfile = service.build.dockerfile ?? "Dockerfile";
    const key = createHash("sha256").update(JSON.stringify({ tree, dockerfile, args: service.build.args, target: service.build.target ?? "" })).digest("hex").slice(0, 12);
    images[service.name] = await builder.build({ ...request, dockerfile, context: service.build.context, service: { name: service.name, tag: `${PREVIEW_IMAGE_REPO}/${request.source}-${service.name}:${key}`, key, buildArgs: service.build.args, ...(service.build.target ? { target: service.build.target } : {}) } }, mirror);
  }
  const routed = reading.environment.routes[0]!.service;
  const routedImage = images[routed] ?? reading.environment.services.find((service) => service.name === routed)!.image!;
  // The routed image is the preview's: tagged per commit, it is what the engine serves and the image keeper keeps.
  if (!images[routed]) await pull(routedImage).catch((error: Error) => {
    throw new BuildFailure(`service ${routed}: ${error.message}`);
  });
  const alias = previewImageTag(request.source, request.commit);
  const [repo, tag] = [alias.slice(0, alias.lastIndexOf(":")), alias.slice(alias.lastIndexOf(":") + 1)];
  await docker.getImage(routedImage).tag({ repo, tag });
  await writeFile(imagesFile(dir), `${JSON.stringify(images)}\n`);
  await removeUnusedCheckouts(stateDir, request.source, docker);
  return alias;
}

/** The files of commits whose image the keeper removed go too: nothing can start from them any more. */
async function removeUnusedCheckouts(stateDir: string, source: string, docker: Docker): Promise<void> {
  const folder = path.join(stateDir, "checkouts", source);
  for (const entry of await readdir(folder).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{40}$/.test(entry)) continue;
    const kept = await docker.getImage(previewImageTag(source, entry)).inspect().then(() => true, () => false);
    if (!kept) await Promise.all([rm(path.join(folder, entry), { recursive: true, force: true }), rm(imagesFile(path.join(folder, entry)), { force: true })]);
  }
}

/**
 * A source's Compose file as the engine reads it for each preview: the commit the preview serves (its DEMO_COMMIT)
 * names the checkout and the images its build made. A commit whose files this machine no longer has fails the start
 * in words (a push or a reset builds it again).
 */
export function previewEnvironmentTemplate(stateDir: string, source: string, compose: ComposeSource): EnvironmentTemplate {
  return {
    file: compose.compose,
    projectRoot: path.join(stateDir, "checkouts", source),
    render: async (variables) => {
      const commit = variables.DEMO_COMMIT ?? "";
      const dir = checkoutDir(stateDir, source, commit);
      const images = await readFile(imagesFile(dir), "utf8").then((text) => JSON.parse(text) as Record<string, string>, () => undefined);
      if (!/^[0-9a-f]{40}$/.test(commit) || !images) return { ok: false, problems: [`the files of commit ${commit.slice(0, 12) || "(none)"} are not on this host (built elsewhere, or removed): build it again`] };
      const reading = await readCompose({ files: folderFiles(dir), file: compose.compose, variables, capabilities: compose.capabilities, ...(compose.profiles ? { profiles: compose.profiles } : {}), ...(compose.route ? { routes: [compose.route, ...(compose.routes ?? [])] } : {}), platform: "linux/amd64" });
      if (!reading.ok) return { ok: false, problems: reading.problems };
      const unbuilt = reading.environment.services.filter((service) => !service.image && !images[service.name]).map((service) => service.name);
      if (unbuilt.length > 0) return { ok: false, problems: [`${unbuilt.join(", ")} ${unbuilt.length === 1 ? "has" : "have"} no image built from commit ${commit.slice(0, 12)}`] };
      const services = reading.environment.services.map((service) => (images[service.name] ? { ...service, image: images[service.name]! } : service));
      return { ok: true, environment: { ...reading.environment, services }, projectRoot: dir };
    },
  };
}
