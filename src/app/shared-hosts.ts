// Shared demos' own names (shared.<name>.hosts): which demo a name belongs to, and whether that demo is live.
import type { Config } from "../config/load.js";
import type { DemoEngine } from "../core/engine.js";
import type { Demo } from "../core/model.js";
import type { LiveHosts } from "./tls.js";

/** A shared demo's own names (shared.<name>.hosts), routed beside its host; no other demo has any. */
export function sharedHostsOf(config: Pick<Config, "shared">, demo: Pick<Demo, "kind" | "id">): readonly string[] {
  return demo.kind === "shared" && Object.hasOwn(config.shared, demo.id) ? config.shared[demo.id]!.hosts : [];
}

/** Whether a shared demo's own name belongs to a demo that is live (ready) now, and a wait until it does. */
export function liveSharedHosts(config: Pick<Config, "shared">, engine: () => DemoEngine | undefined): LiveHosts {
  const nameOf = (host: string) => Object.entries(config.shared).find(([, shared]) => shared.hosts.includes(host))?.[0];
  const ready = (demo: Demo | undefined) => demo?.status === "ready";
  return {
    isLive: (host) => ready(engine()?.get(nameOf(host) ?? "")),
    untilLive: async (host, signal) => {
      const name = nameOf(host);
      return name !== undefined && (await engine()?.until(name, ready, signal)) === true;
    },
  };
}
