// `demo-launcher up`: the embedded default on one machine: sample image, private nginx, watcher, controller.
import { prepareEnvironments } from "./environments.js";
import path from "node:path";
import type { Config } from "../config/load.js";
import { SetupError } from "../core/errors.js";
import { assertDockerReachable, connectDocker, DockerRuntime } from "../docker/runtime.js";
import { buildSampleImage, SAMPLE_IMAGE, sampleImageIsCurrent } from "../docker/sample-image.js";
import type { Logger } from "../logger.js";
import { PrivateNginx, type PrivateNginxOptions } from "../nginx/private-nginx.js";
import type { NginxWatcher } from "../nginx/watcher.js";
import { publicOrigin } from "../http/server.js";
import { startController, type ControllerHandle } from "./controller.js";
import { startWatcherBesideNginx } from "./watcher-service.js";

export interface UpHandle {
  url: string;
  controller: ControllerHandle;
  nginx: PrivateNginx;
  watcher: NginxWatcher;
  /** Stops controller, watcher and nginx; removes the demos unless keepDemos. Safe twice. */
  close(options?: { keepDemos?: boolean }): Promise<void>;
}

export async function ensureImages(config: Config, logger: Logger): Promise<void> {
  const docker = connectDocker();
  await assertDockerReachable(docker);
  const runtime = new DockerRuntime(docker);
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.image === SAMPLE_IMAGE) {
      if (await sampleImageIsCurrent(docker)) continue;
      logger.info(`building the sample image ${SAMPLE_IMAGE} (once, or after its sources changed)`);
      await buildSampleImage(docker, SAMPLE_IMAGE);
      continue;
    }
    for (const [service, image] of Object.entries(app.serviceImages ?? { "": app.image })) {
      if (await runtime.imageExists(image)) continue;
      // A Compose service's image is pulled at the first launch that needs it.
      if (service) {
        logger.info(`the image ${image} of app ${name} (service ${service}) is not on this host: it is pulled at the first launch`);
        continue;
      }
      throw new SetupError(`the image ${image} of app ${name} is not on this host`, `build or load it first (docker build -t ${image} …)`);
    }
  }
}

/** The private nginx lives beside the controller's state: two configs from one checkout never share it. */
export function privateNginxPrefix(config: Config): string {
  return path.join(config.stateDir, "nginx-prefix");
}

/** HTTPS on this machine (`up --tls`): the local CA's certificate unless the config has tls: of its own. */
export function withLocalTls(config: Config): Config {
  return { ...config, tls: config.tls ?? { local: true, hsts: false }, publicScheme: "https" };
}

/** With tls:, the private nginx serves HTTPS on nginx.listenTls: 8443 on the plain listener's host unless given. */
function withTlsListener(config: Config): Config {
  if (!config.tls || config.nginx.listenTls) return config;
  return { ...config, nginx: { ...config.nginx, listenTls: { host: config.nginx.listen.host, port: 8443 } } };
}

/** The private nginx for a config: HTTPS beside plain HTTP when tls: is set. */
export function privateNginxOptions(config: Config): PrivateNginxOptions {
  const { listenTls } = config.nginx;
  return { prefix: privateNginxPrefix(config), configDir: config.nginx.configDir, listen: config.nginx.listen, seenLog: config.nginx.seenLog, ...(config.tls && listenTls ? { tls: { listen: listenTls, ...(config.publicPort ? { publicPort: config.publicPort } : {}) } } : {}) };
}

export async function up(given: Config, logger: Logger): Promise<UpHandle> {
  // Compose apps' files are read first: their images are the services'.
  const config = withTlsListener(await prepareEnvironments(given));
  await ensureImages(config, logger);
  const nginx = await PrivateNginx.prepare(privateNginxOptions(config));
  // The controller writes routes.conf first: nginx cannot start without it.
  const controller = await startController(config, { logger });
  let watcher: NginxWatcher | undefined;
  try {
    await nginx.start();
    // "up" is said once the workers of the watcher's first reload serve alone.
    const started = await startWatcherBesideNginx(config, logger, { testCommand: nginx.testCommand, reloadCommand: nginx.reloadCommand });
    watcher = started.watcher;
    if (!started.served) logger.warn("nginx did not finish its first reload within 10 s; requests may meet its old worker");
  } catch (error) {
    await watcher?.close();
    await nginx.close();
    await controller.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const startedWatcher = watcher;
  return {
    url: `${publicOrigin(config, config.domain)}/`,
    controller,
    nginx,
    watcher: startedWatcher,
    close(options = {}) {
      closing ??= (async () => {
        if (!options.keepDemos) {
          // Nothing may start a container while the demos are removed (a shared demo's supervisor would).
          await controller.quiesce();
          const stopped = await controller.engine.stopAll();
          if (stopped > 0) logger.info(`stopped ${stopped} demo(s)`);
        }
        await controller.close();
        await startedWatcher.close();
        await nginx.close();
      })();
      return closing;
    },
  };
}
