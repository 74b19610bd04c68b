// Wires previews into the controller: the build queue, the branch follower and the image keeper, around the engine.
import type Docker from "dockerode";
import type { Config } from "../config/load.js";
import type { Build } from "../core/builds/build-queue.js";
import type { PreviewService } from "../core/services.js";
import { makeIdGenerator } from "../core/routing/naming.js";
import { servedLabel } from "../core/previews/preview-names.js";
import type { AppSpec } from "../core/app-spec.js";
import { previewSeedOf, sharedDumpTarget } from "../config/preview-schema.js";
import { buildEnvironment, composeSourceOf, previewEnvironmentTemplate } from "../builds/environment-build.js";
import { BranchFollower } from "../builds/branch-follower.js";
import { removePreview } from "../builds/preview-removal.js";
import { BuildRunner, type PreviewImages } from "../builds/build-runner.js";
import { ImageBuilder } from "../builds/image-builder.js";
import { ImageKeeper } from "../builds/image-keeper.js";
import { BuildCgroups } from "../builds/build-cgroup.js";
import { changeOfLabel } from "../core/previews/preview-names.js";
import { startForges, type ForgeServices } from "./forges.js";
import { publicOrigin } from "../http/context.js";
import { hostFor } from "../core/routing/naming.js";
import { previewCommandPort, type CommandShareLink } from "./preview-commands.js";
import type { EventSink } from "../core/events.js";
import { PreviewScreens } from "../screenshots/preview-screens.js";
import { LABEL_PREFIX } from "../core/model.js";
import type { Logger } from "../logger.js";
import { SEEN_LOG_LAG_MS } from "../nginx/seen-log.js";
import type { Scheduler } from "../core/scheduler.js";

/**
 * How the engine runs each source's previews (the image comes from each build; `keep` is their lease). The idle
 * stop waits out the seen log's lag too, so a preview in use is never stopped for a request not yet read.
 */
export function previewSpecs(config: Config): Record<string, AppSpec> {
  return Object.fromEntries(
    Object.entries(config.previews).map(([name, preview]) => [name, { image: "", port: preview.route?.port ?? preview.port ?? 0, ...withEnvironment(config.stateDir, name, composeSourceOf(preview)), ttl: preview.keep, ...(preview.ttl !== undefined ? { maxLife: preview.ttl } : {}), memory: preview.memory, cpus: preview.cpus, pids: preview.pids, env: preview.env, banner: false, pool: 0, readiness: preview.readiness, idleStop: preview.idleStop + SEEN_LOG_LAG_MS, placement: preview.placement, disk: preview.disk, capabilities: preview.capabilities, readOnly: preview.readOnly, tmpfs: preview.tmpfs, nofile: preview.nofile, egress: preview.egress, access: preview.access, ...(preview.state ? { seed: previewSeedOf(preview.state, (name) => sharedDumpTarget(config.shared[name], config.apps)) } : {}) }]),
  );
}

/** A Compose source's template: the engine reads the file of the commit each preview serves. */
function withEnvironment(stateDir: string, source: string, compose: ReturnType<typeof composeSourceOf>): { environment?: AppSpec["environment"] } {
  return compose ? { environment: previewEnvironmentTemplate(stateDir, source, compose) } : {};
}

/**
 * Serves a build's image at the host it was asked for (the commit host of a branch build starts when opened);
 * resolves once the preview answers. `used` tells the image keeper the image is in use.
 */
export function servePreviewBuilds(config: Config, engine: PreviewService, used: (image: string) => void): (build: Build) => Promise<void> {
  const repoBySource = new Map([...Object.entries(config.githubRepos), ...Object.entries(config.gitlabProjects)].map(([repo, entry]) => [entry.source, repo]));
  return async (build) => {
    const image = build.image;
    const label = servedLabel(build);
    if (!image || !label) throw new Error("the build has no image");
    used(image);
    const change = build.host ? changeOfLabel(build.host) : undefined;
    const pr = change ? String(change.number) : undefined;
    const repo = pr ? repoBySource.get(build.source) : undefined;
    // A pull or merge request's containers say which change and commit they serve (the reconciler reads them).
    const labels = repo && pr && build.commit ? { [`${LABEL_PREFIX}repo`]: repo, [`${LABEL_PREFIX}pr`]: pr, [`${LABEL_PREFIX}commit`]: build.commit } : undefined;
    const facts = { ...(build.branch ? { branch: build.branch } : {}), ...(build.commit ? { commit: build.commit } : {}), ...(pr ? { pr } : {}) };
    await engine.previews.serveBuilt(build.source, label, image, { withoutEnv: build.untrusted === true, ...(labels ? { labels } : {}), facts });
  };
}

export interface PreviewServices {
  builds: BuildRunner;
  /** GitHub's and GitLab's webhooks, where configured. */
  forges?: ForgeServices;
  /** Screenshots of changes' previews, where a source takes them. */
  screens?: PreviewScreens;
  keeper: ImageKeeper;
  close(): Promise<void>;
}

/** How long a pulled image is kept unused where no preview source sets a `keep` (the preview sources' default). */
const PULLED_KEEP_MS = 7 * 24 * 3600_000;

/**
 * The image keeper: preview images after their source's `keep`, images launches pulled after the longest of them (or
 * a week where no source is configured) unless an app's Compose file names them, sooner when the disk is low.
 */
function imageKeeper(config: Config, engine: PreviewService, docker: Docker, logger: Logger, scheduler: Scheduler, building: () => boolean = () => false): ImageKeeper {
  const keeps = Object.values(config.previews).map((preview) => preview.keep);
  return new ImageKeeper({
    docker,
    stateDir: config.stateDir,
    keepFor: (source) => config.previews[source]?.keep,
    minFreeBytes: config.builds.minFreeDisk,
    // The keeper waits with its removals while a build runs (see ImageKeeperOptions.building).
    building,
    maxPerSource: config.builds.maxImagesPerSource,
    pulled: { keepMs: keeps.length > 0 ? Math.max(...keeps) : PULLED_KEEP_MS, needed: () => new Set(Object.values(config.apps).flatMap((app) => Object.values(app.serviceImages ?? {}))) },
    logger,
    now: () => scheduler.now(),
    scheduler,
    use: {
      inUse: () => new Set(engine.list().filter((demo) => demo.status !== "asleep").flatMap((demo) => demo.instances.map((instance) => instance.image))),
      asleep: () => engine.list().flatMap((demo) => (demo.status === "asleep" && demo.instances[0] ? [{ id: demo.id, image: demo.instances[0].image, lastSeenAt: demo.lastSeenAt ?? demo.createdAt }] : [])),
      endPreview: async (id, reason) => {
        await engine.endDemo(id, "stopped", reason);
      },
    },
  });
}

/**
 * Where no preview source is configured but apps' Compose files name images a launch may pull: a keeper for those
 * alone (removed once unused for a week, sooner when the disk is low). undefined when no app names any.
 */
export async function startPulledImageKeeper(config: Config, engine: PreviewService, docker: Docker, logger: Logger, scheduler: Scheduler): Promise<ImageKeeper | undefined> {
  if (!Object.values(config.apps).some((app) => Object.keys(app.serviceImages ?? {}).length > 0)) return undefined;
  const keeper = imageKeeper(config, engine, docker, logger, scheduler);
  await keeper.start();
  return keeper;
}

/**
 * Starts the build queue and its helpers; undefined when no preview source is configured. `network`: the builds' own
 * bridge (with its egress rules); none where defences are off (the benchmark's baseline). `shareLink`: a gated
 * pull-request preview's share link for its comment (see commentShareLink); `commandShareLink`: the one a comment's
 * `share` command makes.
 */
export async function startPreviews(config: Config, engine: PreviewService, docker: Docker, logger: Logger, scheduler: Scheduler, options: { network?: string; pullImage?: (image: string) => Promise<void>; shareLink?: (source: string, label: string) => Promise<string | undefined>; commandShareLink?: CommandShareLink; onEngineEvent?: (sink: EventSink) => void } = {}): Promise<PreviewServices | undefined> {
  if (Object.keys(config.previews).length === 0) return undefined;
  // The keeper waits with its removals while a build runs (see ImageKeeperOptions.building); the runner comes next.
  let builds: BuildRunner | undefined;
  const keeper = imageKeeper(config, engine, docker, logger, scheduler, () => builds?.queue.all().some((build) => build.state === "building") ?? false);
  const serve = servePreviewBuilds(config, engine, (image) => keeper.used(image));
  const builder = new ImageBuilder(docker, { scheduler, cgroups: new BuildCgroups(docker, () => scheduler.now()), logger });
  const pull = options.pullImage ?? (async (image: string) => {
    throw new Error(`the image ${image} is not on this host`);
  });
  const images: PreviewImages = {
    build: builder.build.bind(builder),
    remove: builder.remove.bind(builder),
    buildEnvironment: (request, compose, mirror) => buildEnvironment(request, compose, config.stateDir, mirror, builder, docker, async (image) => ((await docker.getImage(image).inspect().then(() => true, () => false)) ? undefined : pull(image))),
  };
  builds = new BuildRunner({ stateDir: config.stateDir, previews: config.previews, limits: { ...config.builds, ...(options.network ? { network: options.network } : {}) }, secrets: configuredSecrets(config), docker, images, logger, scheduler, newId: makeIdGenerator(12), serve });
  // A new image may put its source past builds.maxImagesPerSource: the keeper looks at once, not within a minute.
  builds.onChange((build) => {
    if (build.state === "starting") void keeper.passNow();
  });
  await builds.start();
  await keeper.start();
  const follower = new BranchFollower(builds, (label) => engine.get(label) !== undefined, logger, scheduler, (label, reason) => removePreview(engine, builds!, label, reason));
  follower.start();
  const screens = Object.values(config.previews).some((preview) => preview.screenshots?.length) ? previewScreens(config, engine, logger) : undefined;
  // A preview's screenshots go with it.
  options.onEngineEvent?.((event) => {
    if (screens && event.type === "ended" && event.kind === "preview") void screens.remove(event.id).catch(() => {});
  });
  const forges = await startForges(config, builds, engine, logger, scheduler, { ...(options.shareLink ? { shareLink: options.shareLink } : {}), ...(options.onEngineEvent ? { onEngineEvent: options.onEngineEvent } : {}), ...(screens ? { screens: (build: Build) => screens.commentPart(build) } : {}), commands: previewCommandPort(engine, builds, scheduler, options.commandShareLink) });
  return {
    builds,
    keeper,
    ...(forges ? { forges } : {}),
    ...(screens ? { screens } : {}),
    async close() {
      await forges?.close();
      await follower.close();
      await keeper.close();
      await builds.close();
    },
  };
}

/** Screenshots kept beside the state, served by the controller under the apex (`/previews/<host>/screens/<name>`). */
function previewScreens(config: Config, engine: PreviewService, logger: Logger): PreviewScreens {
  return new PreviewScreens({
    stateDir: config.stateDir,
    logger,
    demo: (label) => engine.get(label),
    pathsOf: (source) => config.previews[source]?.screenshots,
    urlOf: (label, name) => `${publicOrigin(config, config.domain)}/previews/${hostFor(label, config.domain)}/screens/${name}`,
  });
}

/** Every secret the config holds that a build log must never show (the forges' tokens and webhook secrets, say). */
function configuredSecrets(config: Config): string[] {
  // A source's env is never handed to its build at all (no build args either), so there is nothing of it to mask.
  const values = [config.github?.token, process.env.DEMO_LAUNCHER_GITHUB_TOKEN, ...(config.github?.webhookSecrets ?? []), config.gitlab?.token, process.env.DEMO_LAUNCHER_GITLAB_TOKEN, ...(config.gitlab?.webhookSecrets ?? [])];
  return values.filter((value): value is string => typeof value === "string" && value.length > 0);
}
