// What every container of a demo is told about the demo it serves (DEMO_URL, DEMO_ID, …): the same names a Compose file can interpolate.
import type { Demo } from "../model.js";

/** What a preview knows of the code it serves, given by the build that made its image. */
export interface PreviewFacts {
  branch?: string;
  commit?: string;
  pr?: string;
}

/**
 * The demo's own facts as environment variables. They win over an app's `env` (a demo cannot be told it is another
 * one). DEMO_EXPIRES_AT is the end when the container started: an extension later moves the lease, not the variable.
 * A container made before its visitor came (created ahead, `prepared`, or kept warm, `pool`) has none: its time box
 * starts at the launch, after Docker fixed its environment, and a wrong end would be worse than none.
 * DEMO_FIRST_RUN is 1 for a demo's first containers (an app may seed its data then) and 0 for every later one (a
 * push's replacement, a reset's fresh start keeps its volumes' data); a container woken from sleep keeps its own.
 */
export function demoEnvironment(demo: Pick<Demo, "id" | "kind" | "app" | "host" | "expiresAt" | "preview" | "prepared" | "pooled">, url: string, firstRun = true): Record<string, string> {
  const env: Record<string, string> = {
    DEMO_URL: url,
    DEMO_HOST: demo.host,
    DEMO_ID: demo.id,
    DEMO_KIND: demo.kind,
    ...(demo.prepared || demo.pooled ? {} : { DEMO_EXPIRES_AT: new Date(demo.expiresAt).toISOString() }),
    DEMO_FIRST_RUN: firstRun ? "1" : "0",
  };
  if (demo.kind === "preview") {
    env.DEMO_SOURCE = demo.app;
    if (demo.preview?.branch) env.DEMO_BRANCH = demo.preview.branch;
    if (demo.preview?.commit) env.DEMO_COMMIT = demo.preview.commit;
    if (demo.preview?.pr) env.DEMO_PR = demo.preview.pr;
  }
  return env;
}

/** The names above, for docs and for telling a Compose file's author which variables are ours. */
export const DEMO_VARIABLES = ["DEMO_URL", "DEMO_HOST", "DEMO_ID", "DEMO_KIND", "DEMO_EXPIRES_AT", "DEMO_FIRST_RUN", "DEMO_SOURCE", "DEMO_BRANCH", "DEMO_COMMIT", "DEMO_PR"] as const;

/**
 * A container's environment: the app's `env` under the demo's own variables. The app's values of those names are
 * dropped, not only overridden, so one the demo leaves out (DEMO_EXPIRES_AT ahead of a visitor, DEMO_BRANCH outside a
 * preview) is not the app's word either.
 */
export function containerEnvironment(appEnv: Record<string, string>, demo: Parameters<typeof demoEnvironment>[0], url: string, firstRun = true): Record<string, string> {
  return { ...Object.fromEntries(Object.entries(appEnv).filter(([name]) => !isDemoVariable(name))), ...demoEnvironment(demo, url, firstRun) };
}

const DEMO_VARIABLE_NAMES = new Set<string>(DEMO_VARIABLES);

/** Whether a variable is one of the demo's own (an entry `NAME=value` counts by its name). */
export function isDemoVariable(nameOrEntry: string): boolean {
  const equals = nameOrEntry.indexOf("=");
  return DEMO_VARIABLE_NAMES.has(equals < 0 ? nameOrEntry : nameOrEntry.slice(0, equals));
}
