// Images a Compose file names, pulled from a registry on loopback (Debian's docker-registry), with and without a password, once however many wait.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImagePuller, registryOf } from "../../src/docker/pull.js";
import { publish, publishUnique, startRegistry, type Registry } from "../support/registry.js";
import { requireDocker } from "../support/stack.js";

describe("pulling a Compose file's images from a registry", () => {
  let docker: Docker;
  let dir: string;
  let open: Registry;
  let locked: Registry;
  const user = { username: "demo", password: "s3cret-for-tests" };

  beforeAll(async () => {
    docker = await requireDocker();
    if ((await execa("docker-registry", ["--version"], { reject: false }).catch(() => undefined))?.exitCode !== 0) throw new Error("These tests need Debian's docker-registry. Run scripts/ensure-host.sh --browser (npm test does).");
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-pull-"));
    open = await startRegistry(await mkdtemp(path.join(dir, "open-")));
    locked = await startRegistry(await mkdtemp(path.join(dir, "locked-")), user);
  });

  afterAll(async () => {
    open?.process.kill();
    locked?.process.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("names the registry of an image reference as Docker does", () => {
    expect([registryOf("postgres:15"), registryOf("library/redis:7"), registryOf("127.0.0.1:5000/app:1"), registryOf("registry.example.org/team/app"), registryOf("localhost/app")]).toEqual(["docker.io", "docker.io", "127.0.0.1:5000", "registry.example.org", "localhost"]);
  });

  it("pulls an image once however many launches wait for it, and tells every one of them its progress", async () => {
    const image = await publishUnique(docker, open.address, `shop/web:${Date.now()}`);
    const puller = new ImagePuller(docker);
    const pulled: string[] = [];
    puller.onPulled = (name) => pulled.push(name);
    const heard: Array<{ who: string; doneBytes: number; totalBytes: number }> = [];
    const first = puller.pull(image, (progress) => heard.push({ who: "first", ...progress }));
    const second = puller.pull(image, (progress) => heard.push({ who: "second", ...progress }));
    expect(second).toBe(first);
    await Promise.all([first, second]);
    expect((await docker.getImage(image).inspect()).Id).toMatch(/^sha256:/);
    // Both waiters heard it, and the last word is the whole image: every byte of every layer.
    expect(new Set(heard.map((entry) => entry.who))).toEqual(new Set(["first", "second"]));
    const last = heard.at(-1)!;
    expect(last.totalBytes).toBeGreaterThan(0);
    expect(last.doneBytes).toBe(last.totalBytes);
    // The image keeper hears of it once: it is the keeper's to remove when no demo runs it any more.
    expect(pulled).toEqual([image]);
    await docker.getImage(image).remove();
  });

  it("pulls with the registry's credentials, and says access was refused without them", async () => {
    const image = await publish(docker, locked.address, `private/app:${Date.now()}`, user);
    await expect(new ImagePuller(docker).pull(image)).rejects.toThrow(`the image ${image} could not be pulled: ${locked.address} refused access`);
    await expect(new ImagePuller(docker).pull(image)).rejects.toThrow(`give its credentials under registries: { ${locked.address}: { username, password } } or docker login`);
    await expect(new ImagePuller(docker, () => ({ username: user.username, password: "wrong" })).pull(image)).rejects.toThrow("check the credentials under registries");
    await new ImagePuller(docker, (registry) => (registry === locked.address ? user : undefined)).pull(image);
    expect((await docker.getImage(image).inspect()).Id).toMatch(/^sha256:/);
    await docker.getImage(image).remove();
  });

  it("says when an image is not in its registry", async () => {
    await expect(new ImagePuller(docker).pull(`${open.address}/nobody/nothing:1`)).rejects.toThrow(`the image ${open.address}/nobody/nothing:1 is not in ${open.address}`);
  });
});
