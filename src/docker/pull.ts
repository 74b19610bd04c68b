// Images a Compose file names (postgres:15, a registry's app:1), pulled through the Engine API with the registry's credentials, once however many launches wait for them.
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
import { call } from "./engine-api.js";
import type { PullProgress } from "../core/runtime.js";

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The registry an image reference names: its first part when that is a host (has a dot or a port, or is localhost), else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split("/")[0]!;
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** Credentials in a Docker config file (`docker login` writes them as base64 user:password under auths). */
export async function dockerConfigCredentials(file = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "config.json")): Promise<Record<string, RegistryCredentials>> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (!text) return {};
  const out: Record<string, RegistryCredentials> = {};
  try {
    const auths = (JSON.parse(text) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
    for (const [registry, entry] of Object.entries(auths)) {
      if (!entry.auth) continue;
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) out[registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "")] = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  } catch {
    // A config file we cannot read gives no credentials; a pull that needs them says so.
  }
  return out;
}

/** Pulls images, one pull per image at a time: a second launch waiting for the same image waits for the same pull. */
export class ImagePuller {
  private readonly inFlight = new Map<string, { done: Promise<void>; listeners: Set<(progress: PullProgress) => void> }>();

  /** Told of every image this puller brought onto the host (the image keeper removes unused ones after a while). */
  onPulled: ((image: string) => void) | undefined;

  constructor(private readonly docker: Docker, private readonly credentials: (registry: string) => RegistryCredentials | undefined = () => undefined) {}

  /** Every waiter of a pull hears its progress: bytes done and known so far over all its layers. */
  pull(image: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    let entry = this.inFlight.get(image);
    if (!entry) {
      const listeners = new Set<(progress: PullProgress) => void>();
      const done = this.pullOnce(image, (progress) => listeners.forEach((listener) => listener(progress)))
        .then(() => this.onPulled?.(image))
        .finally(() => this.inFlight.delete(image));
      entry = { done, listeners };
      this.inFlight.set(image, entry);
    }
    if (onProgress) {
      const listeners = entry.listeners;
      listeners.add(onProgress);
      void entry.done.catch(() => {}).finally(() => listeners.delete(onProgress));
    }
    return entry.done;
  }

  private async pullOnce(image: string, progress: (progress: PullProgress) => void): Promise<void> {
    const registry = registryOf(image);
    const credentials = this.credentials(registry);
    const authconfig = credentials ? { username: credentials.username, password: credentials.password, serveraddress: registry } : undefined;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await call(() => this.docker.pull(image, authconfig ? { authconfig } : {}) as Promise<NodeJS.ReadableStream>, 60_000);
    } catch (error) {
      throw new Error(pullMessage(image, registry, describeError(error), credentials !== undefined), { cause: error });
    }
    // Per layer: bytes downloaded and its size, as the registry's events say them.
    const layers = new Map<string, { current: number; total: number }>();
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }>) => {
          const failure = error?.message ?? output.find((entry) => entry.error)?.error;
          if (failure) reject(new Error(pullMessage(image, registry, failure, credentials !== undefined)));
          else resolve();
        },
        (event: { status?: string; id?: string; progressDetail?: { current?: number; total?: number } }) => {
          if (!event.id) return;
          const known = layers.get(event.id) ?? { current: 0, total: 0 };
          if (event.status === "Downloading" && event.progressDetail?.total) layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
          else if (event.status === "Download complete" || event.status === "Already exists" || event.status === "Pull complete") layers.set(event.id, { current: known.total, total: known.total });
          else return;
          let doneBytes = 0;
          let totalBytes = 0;
          for (const layer of layers.values()) {
            doneBytes += layer.current;
            totalBytes += layer.total;
          }
          progress({ image, doneBytes, totalBytes, layers: layers.size });
        },
      );
    });
  }
}

/** Why a pull failed, in words that say what to do: no such image, no access, or the registry's own answer. */
function pullMessage(image: string, registry: string, detail: string, withCredentials: boolean): string {
  const plain = detail.replace(/^\(HTTP code \d+\) [a-z ]+ - /i, "").replace(/\s+/g, " ").trim();
  if (/unauthorized|authentication required|no basic auth credentials|denied/i.test(plain)) {
    return `the image ${image} could not be pulled: ${registry} refused access (${plain})${withCredentials ? "; check the credentials under registries" : `; give its credentials under registries: { ${registry}: { username, password } } or docker login`}`;
  }
  if (/manifest unknown|not found|does not exist|repository .* not found/i.test(plain)) return `the image ${image} is not in ${registry} (${plain})`;
  return `the image ${image} could not be pulled from ${registry} (${plain})`;
}
