// An upgrade that keeps every demo, for real: the last release's package (built from the commit the README names)
// installed in a fresh Debian container, visitor demos, a preview, a shared demo and two queued visitors made
// through its controller; then `apt-get install` of this checkout's package, the controller restarted from the new
// unit as systemd would, and every demo adopted with its lease, its route and its place in line. A state file of a
// format newer than the controller knows is refused with the reason and left as it is.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoView } from "../../src/api/views.js";
import { buildSampleImage, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { debianPackage, startDebianHost, type DebianHost } from "../support/debian-host.js";
import { makeWorkRepo, serveWithGitDaemon } from "../support/git-repo.js";
import { PACKAGE_TIER_PORTS, packagedSetup, type PackagedSetup } from "../support/packaged-setup.js";
import { freePort, removePreviewImages, requireDocker, waitFor } from "../support/stack.js";

const SOURCE = `u${Math.random().toString(36).slice(2, 7)}`;

describe("upgrading the Debian package", () => {
  let host: DebianHost;
  let setup: PackagedSetup;
  let root: string;
  let daemon: Awaited<ReturnType<typeof serveWithGitDaemon>> | undefined;
  let previous: string;
  let current: string;
  const docker = requireDocker();

  beforeAll(async () => {
    const engine = await docker;
    if (!(await sampleImageIsCurrent(engine))) await buildSampleImage(engine);
    [previous, current] = await Promise.all([debianPackage("previous"), debianPackage()]);
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-upgrade-"));
    daemon = await serveWithGitDaemon(await makeWorkRepo(path.join(root, "work")), root, await freePort(PACKAGE_TIER_PORTS));
    host = await startDebianHost({ packages: [previous, current], cache: "upgrade" });
  }, 600_000);
  afterAll(async () => {
    await host?.close();
    await daemon?.stop();
    const engine = await docker;
    await setup?.remove(engine);
    await removePreviewImages(engine, SOURCE).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  const demos = async () => {
    const answer = await setup.api("GET", "/api/demos");
    expect(answer.status, answer.body).toBe(200);
    return (JSON.parse(answer.body) as { demos: DemoView[] }).demos.sort((a, b) => a.id.localeCompare(b.id));
  };
  const routesFile = () => host.sh("cat /var/lib/demo-launcher/nginx/routes.conf");

  it("keeps every demo, its lease, its route and its place in line", async () => {
    // Dependencies pulled from Debian's archive are the install test's; here Docker is the host's alone.
    await host.standInForDocker();
    await host.sh(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${previous} 2>&1`);
    const oldVersion = await host.sh("demo-launcher --version");
    expect(oldVersion).toMatch(/^0\.1\.0$/);
    setup = await packagedSetup(host);
    await setup.configure(`limits: { maxDemos: 2, perClient: 10, launchesPerClient: 20 }
previews:
  ${SOURCE}: { repo: ${JSON.stringify(daemon!.url)}, port: 8080, readiness: { path: /, timeout: 20s } }
shared:
  try-it: { app: hello, replicas: 1 }`);
    await setup.start();

    const visitors = [await setup.launch("hello"), await setup.launch("hello")];
    const queued: DemoView[] = [];
    for (let i = 0; i < 2; i += 1) {
      const answer = await setup.api("POST", "/api/demos", { app: "hello" });
      expect(answer.status, answer.body).toBe(201);
      queued.push(JSON.parse(answer.body) as DemoView);
    }
    expect(queued.map((demo) => [demo.status, demo.queue?.position])).toEqual([["queued", 1], ["queued", 2]]);
    const build = JSON.parse((await setup.api("POST", "/api/builds", { source: SOURCE, branch: "main" })).body) as { id: string };
    await waitFor(`build ${build.id}`, async () => {
      const view = JSON.parse((await setup.api("GET", `/api/builds/${build.id}`)).body) as { state: string; reason?: string };
      if (view.state === "failed") throw new Error(view.reason);
      return view.state === "ready";
    }, 120_000, 200);
    await waitFor("the shared demo to be ready", async () => (await demos()).some((demo) => demo.kind === "shared" && demo.status === "ready"), 60_000, 200);
    const before = await demos();
    expect(before.map((demo) => `${demo.kind} ${demo.status}`).sort()).toEqual(["preview ready", "shared ready", "visitor queued", "visitor queued", "visitor ready", "visitor ready"]);
    const served = before.filter((demo) => demo.status === "ready");
    expect(served).toHaveLength(4);
    const routesBefore = await routesFile();
    for (const demo of served) {
      expect(routesBefore).toContain(demo.host);
      await setup.page(demo.host);
    }
    const containersBefore = (await (await docker).listContainers({ filters: { label: [`demo-launcher.namespace=${setup.namespace}`] } })).map((info) => info.Id).sort();

    // The upgrade as apt and systemd do it: the new files unpacked while the old controller runs, then a restart.
    const upgraded = await host.sh(`DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${current} 2>&1`);
    expect(upgraded).toMatch(/Unpacking demo-launcher \(\S+\) over \(0\.1\.0\+[0-9a-f]{12}\)/);
    await setup.stopController();
    await setup.startController();
    expect(await host.sh("demo-launcher --version")).not.toBe(oldVersion);

    // Every demo adopted as it was: same ids, kinds, hosts, leases (expiresAt) and places in line; same containers.
    const after = await waitFor("every demo to be adopted", async () => {
      const list = await demos();
      return list.length === before.length && list.filter((demo) => demo.status === "ready").length === served.length ? list : undefined;
    }, 60_000, 200);
    const essentials = (list: DemoView[]) => list.map((demo) => ({ id: demo.id, kind: demo.kind, app: demo.app, host: demo.host, status: demo.status, expiresAt: demo.expiresAt, position: demo.queue?.position }));
    expect(essentials(after)).toEqual(essentials(before));
    expect((await (await docker).listContainers({ filters: { label: [`demo-launcher.namespace=${setup.namespace}`] } })).map((info) => info.Id).sort()).toEqual(containersBefore);
    const routesAfter = await routesFile();
    for (const demo of served) {
      expect(routesAfter).toContain(demo.host);
      await setup.page(demo.host);
    }
    expect(JSON.parse(await host.sh("cat /var/lib/demo-launcher/state/state.json")).version).toBe(1);

    // A state file of a newer format: the new controller refuses to start, says why, and leaves the file as it is.
    await setup.stopController();
    await host.sh(`cd /var/lib/demo-launcher/state && node_bin=/usr/lib/demo-launcher/bin/node && $node_bin -e 'const fs = require("fs"); const state = JSON.parse(fs.readFileSync("state.json", "utf8")); state.version = 99; fs.writeFileSync("state.json", JSON.stringify(state))' && sha256sum state.json >/tmp/newer.sum`);
    const refused = await execa("docker", ["exec", host.name, "setpriv", "--reuid=demo-launcher", "--regid=demo-launcher", "--init-groups", "demo-launcher", "--config", "/etc/demo-launcher/config.yaml", "serve"], { reject: false, all: true });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toMatch(/state\.json has format 99, written by a newer demo-launcher; this one reads formats up to 1; the file is left as it is/);
    await host.sh("cd /var/lib/demo-launcher/state && sha256sum -c --quiet /tmp/newer.sum");

    // A plain removal leaves the demos running.
    await host.sh("DEBIAN_FRONTEND=noninteractive apt-get remove -y demo-launcher");
    expect((await (await docker).listContainers({ filters: { label: [`demo-launcher.namespace=${setup.namespace}`] } })).map((info) => info.Id).sort()).toEqual(containersBefore);
  }, 600_000);
});
