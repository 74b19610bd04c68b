// Wires the controller together: Docker, the routes file, the state file, the engine, the reaper and HTTP.
import type { FastifyInstance } from "fastify";
import type Docker from "dockerode";
import { configPath, type Config } from "../config/load.js";
import { DemoEngine } from "../core/engine.js";
import { commandShareLink, commentShareLink, startAccessDesk } from "./access.js";
import { makeIdGenerator } from "../core/routing/naming.js";
import { assertDockerReachable, connectDocker, DockerRuntime, ensureBridgeNetwork } from "../docker/runtime.js";
import { DiskGuard } from "../docker/disk-guard.js";
import { publicOrigin } from "../http/context.js";
import { prepareEnvironments } from "./environments.js";
import { readFile } from "node:fs/promises";
import { ConfigError } from "../config/schema.js";
import { dockerConfigCredentials, type RegistryCredentials } from "../docker/pull.js";
import { egressNetworks, environmentNetworks, FirewallKeeper, type GuardedNetwork } from "../firewall/keeper.js";
import { buildServer } from "../http/server.js";
import type { Logger } from "../logger.js";
import { DEFAULT_TEMPLATES_DIR, RoutesRenderer, type RoutesTls } from "../nginx/render.js";
import { nginxRoutes } from "../nginx/nginx-routes.js";
import { readWatcherStatus } from "../nginx/watcher-status.js";
import { httpReadinessProbe } from "../probe/http.js";
import { StateFile } from "../state/state-file.js";
import { startReaper, type Reaper } from "./reaper.js";
import { previewSpecs, startPreviews, startPulledImageKeeper } from "./previews.js";
import { SeenLog } from "../nginx/seen-log.js";
import { DumpRestorer } from "../databases/run.js";
import { DatabaseSeeder } from "../databases/seeder.js";
import { GitMirror } from "../builds/git.js";
import { startSharedSchedules } from "./shared-schedules.js";
import { ControllerMetrics } from "../metrics/metrics.js";
import type { EventSink } from "../core/events.js";
import { lifecycleLog } from "./lifecycle-log.js";
import { formatAddress } from "../nginx/render.js";
import type { ContainerRuntime, ReadinessProbe } from "../core/runtime.js";
import { SwarmRuntime } from "../swarm/runtime.js";
import type { Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { assertSwarmManager, nodeDockers } from "../swarm/nodes.js";
import { LeaseStore, NamespaceLease } from "../docker/namespace-lease.js";
import type { TlsService } from "./tls.js";
import { liveOwnHosts } from "./live-hosts.js";
import { ownHostOwners, ownHostsOf } from "../config/own-hosts.js";

export interface ControllerHandle {
  engine: DemoEngine;
  /** HTTPS (tls:), when configured. */
  tls?: TlsService;
  server: FastifyInstance;
  /** The controller's own base URL, e.g. http://127.0.0.1:8081 */
  url: string;
  /**
   * The first half of a shutdown: every loop that could start a container stops (the reaper and what it
   * supervises, shared-demo schedules, builds and their followers, the disk guard, the firewall keeper) and the
   * engine creates nothing more; HTTP still answers. Then demos may be removed without anything racing them. Safe twice.
   */
  quiesce(): Promise<void>;
  /** Quiesces, then stops HTTP; demos keep running and are adopted at the next start. Safe twice. */
  close(): Promise<void>;
  /** Resolves once no launch, replacement, drain, rewind, build or webhook delivery is under way (tests, shutdown). */
  settled(): Promise<void>;
}

export interface ControllerOptions {
  logger: Logger;
  docker?: Docker;
  templatesDir?: string;
  /** Listen on this port instead of the configured one (0 = any free port; tests use it). */
  portOverride?: number;
  /** Another container runtime and readiness check (the benchmark's in-memory runtime for memory per demo). */
  runtime?: ContainerRuntime;
  readiness?: ReadinessProbe;
  /** false: no capability drop, ulimits, disk guard or egress rules: the benchmark's baseline for what they cost. */
  defences?: boolean;
  /** Time for every loop and wait of the controller; the system scheduler by default. */
  scheduler?: Scheduler;
}

/** How this config's routes file is rendered (the operator's templates, the seen log, HTTPS); `render` uses the same. */
export function routesRenderer(config: Config, templatesDir: string, logger: Logger, tls?: () => RoutesTls | undefined): RoutesRenderer {
  return new RoutesRenderer(templatesDir, { ...(config.templatesDir ? { operatorDir: config.templatesDir } : {}), ...(config.nginx.seenLog ? { seenLog: config.nginx.seenLog } : {}), ...(tls ? { tls } : {}), logger });
}

/** The demos' networks on one host: one per egress policy in use. */
export function demoNetworks(config: Config): ReturnType<typeof egressNetworks> {
  return egressNetworks(config.network, [...Object.values(config.apps), ...Object.values(config.previews)].map((app) => app.egress));
}

/** Where preview builds run their steps: a bridge of their own, with `builds.egress` held by the host's rules. */
export function buildNetworkName(config: Config): string {
  return `${config.network}-build`;
}

/**
 * Every bridge whose egress the host's rules hold: the demos' (one host; a swarm's nodes keep their own) and,
 * where previews are built, the builds' (builds run on this daemon on either runtime).
 */
export function guardedNetworks(config: Config): GuardedNetwork[] {
  const demos = config.runtime === "swarm" ? [] : demoNetworks(config);
  const composeApps = Object.values(config.apps).filter((app) => app.compose);
  const environments = config.runtime === "swarm" || composeApps.length === 0 ? [] : environmentNetworks(composeApps.map((app) => app.egress));
  const builds = Object.keys(config.previews).length > 0 ? [{ network: buildNetworkName(config), egress: config.builds.egress }] : [];
  return [...demos, ...environments, ...builds];
}

/** The config's registry credentials (a password file read now), over those `docker login` saved for this user. */
export async function registryCredentials(config: Config): Promise<(registry: string) => RegistryCredentials | undefined> {
  const credentials: Record<string, RegistryCredentials> = await dockerConfigCredentials();
  for (const [host, entry] of Object.entries(config.registries)) {
    const password = entry.password ?? (await readFile(entry.passwordFile!, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(config.source, [{ key: `registries.${host}.passwordFile`, message: `${JSON.stringify(entry.passwordFile)} cannot be read (${error.code ?? "error"})` }]);
    })).trim();
    credentials[host] = { username: entry.username, password };
  }
  return (registry) => credentials[registry];
}

/**
 * One host (loopback ports on this daemon) or a swarm (services placed by Swarm; this daemon must be a manager).
 * `readOnly`: for a command that only lists what runs (render): no network is made.
 */
export async function runtimeFor(config: Config, docker: Docker, defences: boolean, use: { readOnly?: boolean } = {}): Promise<ContainerRuntime> {
  if (config.runtime === "swarm") {
    await assertSwarmManager(docker);
    return new SwarmRuntime(docker, { ...(config.swarm.registry ? { registry: config.swarm.registry } : {}), constraints: config.swarm.constraints, startTimeoutMs: config.swarm.startTimeout, ports: config.ports, nodeDockers: await nodeDockers(config) });
  }
  const runtime = new DockerRuntime(docker, { network: config.network, ports: config.ports, hardened: defences, sweepLeftovers: !use.readOnly, registries: await registryCredentials(config) });
  if (!use.readOnly) for (const { network } of demoNetworks(config)) await runtime.ensureNetwork(network);
  return runtime;
}

export async function startController(config: Config, options: ControllerOptions): Promise<ControllerHandle> {
  const scheduler = options.scheduler ?? systemScheduler;
  const docker = options.docker ?? connectDocker();
  if (!options.runtime) await assertDockerReachable(docker);
  const defences = options.defences !== false;
  if (!options.runtime && config.runtime === "swarm") await assertSwarmManager(docker);
  // The namespace is this controller's alone on this Docker host or swarm: a second one refuses, naming the first.
  const lease = options.runtime ? undefined : await NamespaceLease.acquire(new LeaseStore(docker, config.runtime === "swarm"), { namespace: config.namespace, address: `http://${formatAddress(config.listen)}`, config: configPath(config), scheduler, logger: options.logger });
  try {
    return await startHolding(config, options, docker, scheduler, defences, lease);
  } catch (error) {
    await lease?.release();
    throw error;
  }
}

async function startHolding(given: Config, options: ControllerOptions, docker: Docker, scheduler: Scheduler, defences: boolean, lease: NamespaceLease | undefined): Promise<ControllerHandle> {
  // Apps made of a Compose file: each file read and checked now, so a broken one stops the start with its reasons.
  const config = await prepareEnvironments(given);
  const runtime = options.runtime ?? (await runtimeFor(config, docker, defences));
  const templatesDir = options.templatesDir ?? DEFAULT_TEMPLATES_DIR;
  let engineRef: DemoEngine | undefined;
  // HTTPS first: routes.conf names the pair nginx serves from its very first generation. Demos' own names get
  // certificates while their demo is live (read from the engine once it exists).
  // Loaded only with tls: (acme-client and the X.509 library are most of an idle controller's RSS otherwise).
  const tls = config.tls ? await (await import("./tls.js")).prepareTls(config, scheduler, options.logger, liveOwnHosts(config, () => engineRef)) : undefined;
  const renderer = routesRenderer(config, templatesDir, options.logger, tls && (() => tls.routesTls()));
  const routes = nginxRoutes(config, renderer, scheduler, options.logger);
  tls?.attach(routes);
  // nginx logs requests to previews; reading that log is how idle previews are found (and used ones kept).
  const seenLog = config.nginx.seenLog ? new SeenLog(config.nginx.seenLog, config.domain, (labels) => engineRef?.previews.sawRequests(labels), options.logger, scheduler, ownHostOwners(config)) : undefined;
  await seenLog?.start();
  // Who may open gated demos: its gates go into the routes, so it comes before the engine (and reads it lazily).
  const access = await startAccessDesk(config, () => engineRef, scheduler, options.logger);
  // Observers of the engine's events; the metrics join once they can read the engine.
  const events: EventSink[] = [lifecycleLog(options.logger)];
  const restorer = new DumpRestorer(runtime);
  const engine = new DemoEngine({
    domain: config.domain,
    namespace: config.namespace,
    apps: config.apps,
    previews: previewSpecs(config),
    events,
    shared: Object.entries(config.shared).map(([name, shared]) => ({ name, app: shared.app, replicas: shared.replicas, source: shared.source })),
    limits: config.limits,
    newId: makeIdGenerator(config.idLength),
    runtime,
    restorer,
    // A preview's seed file is read from its source's git mirror (the build fetched the commit into it).
    seeder: new DatabaseSeeder(runtime, restorer, async (source, commit, file, maxBytes) => {
      const preview = config.previews[source];
      if (!preview) throw new Error(`no preview source ${source} is configured any more`);
      return GitMirror.forRepo(config.stateDir, preview.repo).readFile(commit, file, maxBytes);
    }),
    readiness: options.readiness ?? httpReadinessProbe,
    routes,
    stateStore: new StateFile(config.stateDir, options.logger),
    scheduler,
    logger: options.logger,
    drainMs: config.nginx.drain,
    publicOrigin: (host) => publicOrigin(config, host),
    gateOf: (demo) => access.desk.gateOf(demo),
    hostsOf: (demo) => ownHostsOf(config, demo),
    ...(seenLog ? { idleTracking: () => seenLog.working && renderer.writesSeenLog, readSeenRequests: () => seenLog.readNew() } : {}),
  });
  engineRef = engine;
  await engine.start();
  // Renewals serve a new pair as a new routes generation: only once the engine has written its own.
  await tls?.start();
  // Disk budgets and the free-space floor, on one Docker host (a swarm's nodes keep only the per-file limit).
  const diskGuard = runtime instanceof DockerRuntime && defences ? new DiskGuard(docker, engine, { namespace: config.namespace, floor: config.limits.minFreeDisk, watched: () => runtime.diskMode !== "quota", logger: options.logger, scheduler }) : undefined;
  await diskGuard?.start();
  // The demos' networks were made with the runtime; the builds' is made here (it exists on either runtime).
  const guarded = defences && !options.runtime ? guardedNetworks(config) : [];
  if (guarded.length > 0 && Object.keys(config.previews).length > 0) await ensureBridgeNetwork(docker, buildNetworkName(config));
  const firewall = guarded.length > 0 ? new FirewallKeeper(docker, guarded, options.logger, scheduler) : undefined;
  await firewall?.start();
  // Builds run only where preview sources are configured; their queue lives beside the state file.
  const previews = await startPreviews(config, engine, docker, options.logger, scheduler, { ...(defences && !options.runtime ? { network: buildNetworkName(config) } : {}), ...(runtime.pullImage ? { pullImage: (image: string) => runtime.pullImage!(image) } : {}), shareLink: (source, label) => commentShareLink(config, access.desk, engine, source, label), commandShareLink: (demo, ttlMs, by) => commandShareLink(config, access.desk, demo, ttlMs, by), onEngineEvent: (sink) => events.push(sink) });
  const builds = previews?.builds;
  // What launches pull is the image keeper's to remove once unused: the previews' keeper, or one of its own.
  const pulledOnly = !previews && runtime instanceof DockerRuntime ? await startPulledImageKeeper(config, engine, docker, options.logger, scheduler) : undefined;
  const keeper = previews?.keeper ?? pulledOnly;
  if (keeper && runtime instanceof DockerRuntime) runtime.onPulled = (image) => keeper.notePulled(image);
  const metrics = config.metrics.enabled ? new ControllerMetrics({ engine, apps: Object.keys(config.apps), watcherStatus: () => readWatcherStatus(config.nginx.configDir), builds, deliveries: previews?.forges?.deliveries, ...(tls ? { tls: () => tls.report() } : {}) }) : undefined;
  if (metrics) events.push(metrics.sink);
  const reaper: Reaper = startReaper(scheduler, config.reaper.interval, () => engine.reapTick(), options.logger, metrics ? (seconds) => metrics.reaperLag.observe(seconds) : undefined);
  // After start: the engine knows when each shared demo was last reset, so a reset missed while down runs now.
  const schedules = startSharedSchedules(config, engine, options.logger, scheduler);
  const server = await buildServer({
    config,
    engine,
    logger: options.logger,
    templatesDir,
    ...(builds ? { builds } : {}),
    ...(previews?.forges ? { forges: previews.forges.hooks, deliveries: previews.forges.deliveries } : {}),
    ...(previews?.screens ? { screens: previews.screens } : {}),
    schedules,
    engineEvents: { add: (sink) => events.push(sink) },
    access: access.desk,
    ...(tls ? { acme: tls.acme } : {}),
    ...(metrics ? { metrics } : {}),
    status: async () => ({ watcher: (await readWatcherStatus(config.nginx.configDir)) ?? { state: "unknown", detail: "the watcher has not reported yet" }, ...(tls ? { tls: tls.report() } : {}) }),
  });
  let quiescing: Promise<void> | undefined;
  const quiesce = () => {
    quiescing ??= (async () => {
      engine.beginShutdown();
      diskGuard?.stop();
      firewall?.stop();
      await reaper.stop();
      schedules.close();
      await previews?.close();
      await pulledOnly?.close();
      await seenLog?.close();
      access.close();
      await tls?.close();
    })();
    return quiescing;
  };
  const port = options.portOverride ?? config.listen.port;
  try {
    await server.listen({ host: config.listen.host, port });
  } catch (error) {
    await quiesce();
    await engine.close();
    throw error;
  }
  const address = server.server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${formatAddress({ host: config.listen.host, port: boundPort })}`;
  options.logger.info(`controller listening on ${url}; ${engine.adoptedAtStart} live demo(s) adopted`);
  let closing: Promise<void> | undefined;
  return {
    engine,
    ...(tls ? { tls } : {}),
    server,
    url,
    async settled() {
      // A delivery starts builds, a build serves a preview: each in turn, until a pass finds all three still.
      for (;;) {
        await previews?.forges?.idle();
        await builds?.idle();
        await engine.settled();
        if (!previews?.forges?.busy && !builds?.busy && !engine.busy) return;
      }
    },
    quiesce,
    close() {
      closing ??= (async () => {
        await quiesce();
        await server.close();
        await engine.close();
        await lease?.release();
      })();
      return closing;
    },
  };
}
