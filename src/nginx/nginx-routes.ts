// The routes edge as the controller builds it: routes.conf written from the templates, confirmed by asking nginx
// (its answer, its workers, the watcher's verdict), with the fallback from an operator template nginx refuses.
import type { Config } from "../config/load.js";
import type { Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";
import { nginxRouteConfirmer } from "./confirm.js";
import type { RoutesRenderer } from "./render.js";
import { RoutesFilePublisher } from "./route-publisher.js";
import { RoutesFile } from "./routes-file.js";
import { readWatcherStatus } from "./watcher-status.js";
import { olderNginxWorkersRetired } from "./workers.js";

export function nginxRoutes(config: Pick<Config, "domain" | "nginx">, renderer: RoutesRenderer, scheduler: Scheduler, logger: Logger): RoutesFilePublisher {
  const { configDir } = config.nginx;
  /** The watcher's refusal of a file at least this new, in its words. */
  const refusal = async (generation: number): Promise<string | undefined> => {
    const error = (await readWatcherStatus(configDir))?.lastError;
    return error?.kind === "rejected" && error.generation >= generation ? error.message : undefined;
  };
  const confirmer = nginxRouteConfirmer(config.nginx.probeUrl, config.domain, { rejected: async (generation) => (await refusal(generation)) !== undefined, olderWorkersRetired: olderNginxWorkersRetired, scheduler });
  // With the operator's template in use, a refusal sets it aside: ours is tested and kept valid by this project.
  const fallback = async (generation: number): Promise<boolean> => {
    if (!renderer.usesOperatorTemplate()) return false;
    renderer.refuseOperatorTemplate(`nginx refused the routes file it made (${(await refusal(generation)) ?? `generation ${generation}`})`);
    return true;
  };
  return new RoutesFilePublisher(new RoutesFile(configDir, config.nginx.controller, renderer), confirmer, logger, fallback);
}
