// A private registry on loopback (Debian's docker-registry) for the image-pull tests, and putting images into it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { execa } from "execa";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { freePort, waitFor } from "./stack.js";

export interface Registry {
  address: string;
  process: ChildProcess;
}

/** A registry on 127.0.0.1 (Docker trusts loopback registries over plain HTTP), optionally with one htpasswd user. */
export async function startRegistry(dir: string, auth?: { username: string; password: string }): Promise<Registry> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let authYaml = "";
  if (auth) {
    const { stdout } = await execa("htpasswd", ["-Bbn", auth.username, auth.password]);
    await writeFile(path.join(dir, "htpasswd"), `${stdout.trim()}\n`);
    authYaml = `auth: { htpasswd: { realm: test, path: ${path.join(dir, "htpasswd")} } }\n`;
  }
  await writeFile(path.join(dir, "config.yml"), `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${dir}/data } }\nhttp: { addr: ${address} }\n${authYaml}`);
  const child = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: "ignore" });
  await waitFor(`the registry on ${address}`, async () => [200, 401].includes((await fetch(`http://${address}/v2/`).catch(() => undefined))?.status ?? 0), 15_000, 100);
  return { address, process: child };
}

/** Puts the sample image into a registry under `name` and takes the local tag away again. */
export async function publish(docker: Docker, registry: string, name: string, auth?: { username: string; password: string }): Promise<string> {
  const reference = `${registry}/${name}`;
  await docker.getImage(SAMPLE_IMAGE).tag({ repo: reference.slice(0, reference.lastIndexOf(":")), tag: reference.slice(reference.lastIndexOf(":") + 1) });
  const stream = await docker.getImage(reference).push({ authconfig: { serveraddress: registry, ...(auth ?? {}) } } as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => (error ?? output.find((entry) => entry.error) ? reject(error ?? new Error(output.find((entry) => entry.error)!.error)) : resolve())));
  await docker.getImage(reference).remove();
  return reference;
}

/**
 * Pushes an image whose one layer nothing on this host has (2 MB of random bytes, FROM scratch) and removes it here:
 * its pull downloads that layer, with Docker's progress events, as a first launch's would.
 */
export async function publishUnique(docker: Docker, registry: string, name: string): Promise<string> {
  const reference = `${registry}/${name}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-unique-image-"));
  await writeFile(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY blob /blob\n");
  await writeFile(path.join(dir, "blob"), randomBytes(2 * 1024 * 1024));
  const built = await docker.buildImage(pack(dir) as unknown as NodeJS.ReadableStream, { t: reference });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(built, (error: Error | null, output: Array<{ error?: string }>) => (error ?? output.find((entry) => entry.error) ? reject(error ?? new Error(output.find((entry) => entry.error)!.error)) : resolve())));
  const stream = await docker.getImage(reference).push({ authconfig: { serveraddress: registry } } as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => (error ?? output.find((entry) => entry.error) ? reject(error ?? new Error(output.find((entry) => entry.error)!.error)) : resolve())));
  await docker.getImage(reference).remove();
  await rm(dir, { recursive: true, force: true });
  return reference;
}
