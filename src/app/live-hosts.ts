// Demos' own names as the running controller sees them: whether a name's demo is live now, and a wait until it is
// (certificates are ordered for live demos' names only).
import type { Config } from "../config/load.js";
import { ownHostOwners } from "../config/own-hosts.js";
import type { DemoEngine } from "../core/engine.js";
import type { Demo } from "../core/model.js";
import type { LiveHosts } from "./tls.js";

export function liveOwnHosts(config: Pick<Config, "shared" | "previews">, engine: () => DemoEngine | undefined): LiveHosts {
  const owners = ownHostOwners(config);
  const ready = (demo: Demo | undefined) => demo?.status === "ready";
  return {
    isLive: (host) => ready(engine()?.get(owners.get(host) ?? "")),
    untilLive: async (host, signal) => {
      const id = owners.get(host);
      return id !== undefined && (await engine()?.until(id, ready, signal)) === true;
    },
  };
}
