// What the edges may ask of the core, by name: the HTTP layer and the metrics depend on these services, not on the
// engine class (a test or another front end can hand them anything that answers the same).
import type { DemoEngine } from "./engine.js";

/** Demos for the HTTP API and the console: launch, read, act on them, and the engine's clock. */
export type DemoService = Pick<DemoEngine, "now" | "get" | "getEnded" | "list" | "queueInfo" | "touch" | "launch" | "stop" | "extend" | "replace" | "rewind" | "snapshot" | "job" | "logs" | "specFor" | "poolStatus" | "dockerStatus" | "currentGeneration"> & {
  /** Previews (wake, remove) and shared demos (their resets) as the engine keeps them. */
  readonly previews: DemoEngine["previews"];
  readonly shared: DemoEngine["shared"];
  /** The scheduler the engine runs on, for the edge's own waits (a followed log, the console's live view). */
  readonly options: Pick<DemoEngine["options"], "scheduler">;
};

/** What the metrics read at each scrape: the demos, the warm pools, Docker, the routes generation, the clock. */
export type MetricsSource = Pick<DemoEngine, "now" | "list" | "poolStatus" | "dockerStatus" | "currentGeneration">;
