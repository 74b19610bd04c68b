// One app entry of a test config, indented for the apps: section: the sample image with the limits tests use.
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";

export interface TestApp {
  image?: string;
  ttl?: string;
  env?: Record<string, string>;
  memory?: string;
  pids?: number;
  /** The readiness check's time limit (path /). */
  timeout?: string;
  /** More keys, one a line, as they stand under the app (e.g. "pool: 2"). */
  extra?: string[];
}

export function appYaml(name: string, options: TestApp = {}): string {
  const env = options.env ? `\n    env: ${JSON.stringify(options.env)}` : "";
  const extra = (options.extra ?? []).map((line) => `\n    ${line}`).join("");
  return `  ${name}:
    image: ${options.image ?? SAMPLE_IMAGE}
    port: 8080
    ttl: ${options.ttl ?? "10m"}
    memory: ${options.memory ?? "64m"}
    pids: ${options.pids ?? 64}
    readiness: { path: /, timeout: ${options.timeout ?? "20s"} }${env}${extra}`;
}
