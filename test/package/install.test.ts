// The Debian package installed for real: in a fresh Debian container `apt-get install ./demo-launcher_*.deb` pulls
// its dependencies from Debian's archive, the units pass `systemd-analyze verify`, the controller unit's ExecStart run
// as the `demo-launcher` user (beside Debian's nginx with the packaged site, and the watcher's ExecStart) launches a
// demo on the host's Docker that nginx serves over HTTPS, doctor passes, and remove / purge leave what they promise.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleImage, SAMPLE_IMAGE, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { debianPackage, startDebianHost, type DebianHost } from "../support/debian-host.js";
import { packagedSetup, type PackagedSetup } from "../support/packaged-setup.js";
import { requireDocker, waitFor } from "../support/stack.js";

describe("the Debian package", () => {
  let host: DebianHost;
  let deb: string;
  let setup: PackagedSetup;
  const docker = requireDocker();

  beforeAll(async () => {
    const engine = await docker;
    if (!(await sampleImageIsCurrent(engine))) await buildSampleImage(engine);
    deb = await debianPackage();
    host = await startDebianHost({ packages: [deb], cache: "install" });
  }, 600_000);
  afterAll(async () => {
    await host?.close();
    await setup?.remove(await docker);
  });

  it("installs on a fresh Debian with its dependencies, and its units, run as the package says, serve a demo", async () => {
    // systemd only for systemd-analyze: the package itself needs no running systemd to install.
    const installed = await host.sh(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${deb} systemd 2>&1`);
    for (const dependency of ["docker.io", "nginx", "git", "iptables"]) expect(installed).toMatch(new RegExp(`(Setting up|Unpacking) ${dependency.replace(".", "\\.")}[ :]`));
    expect(await host.sh("dpkg-query -W -f '${Status} ${Version}' demo-launcher")).toMatch(/^install ok installed \d+\.\d+\.\d+$/);
    expect(await host.sh("id -nG demo-launcher")).toMatch(/\bdocker\b/);
    expect(await host.sh("demo-launcher --version")).toBe(JSON.parse(await readFile(path.join(import.meta.dirname, "../../package.json"), "utf8")).version);
    expect((await host.sh("cat /var/lib/dpkg/info/demo-launcher.conffiles")).split("\n")).toContain("/etc/demo-launcher/config.yaml");
    // Not a word from systemd-analyze: a missing binary, an unknown key, a wrong user or path would be one. Its look-up of the
    // Documentation= man page needs man-db, which a minimal Debian lacks: the page's file is checked instead.
    expect(await host.sh("systemd-analyze verify --man=no /lib/systemd/system/demo-launcher.service /lib/systemd/system/demo-launcher-watcher.service 2>&1")).toBe("");
    await host.sh("test -s /usr/share/man/man1/demo-launcher.1.gz");

    setup = await packagedSetup(host);
    await setup.start();
    const doctor = await execa("docker", ["exec", host.name, "demo-launcher", "--config", "/etc/demo-launcher/config.yaml", "doctor"], { reject: false, all: true });
    expect(doctor.exitCode, doctor.all).toBe(0);
    expect(doctor.all).toMatch(/nginx config/);

    const demo = await setup.launch("hello");
    expect(await setup.page(demo.host)).toMatch(/guestbook/i);

    // Removal asked to take the demos: the controller stops each before the units go; purge takes the state.
    const engine = await docker;
    await host.sh(`DEBIAN_FRONTEND=noninteractive apt-get remove -y demo-launcher`, { env: { DEMO_LAUNCHER_REMOVE_DEMOS: "yes" } });
    await waitFor(`${demo.id}'s container to be gone`, async () => (await engine.listContainers({ all: true, filters: { label: [`demo-launcher.namespace=${setup.namespace}`] } })).length === 0, 30_000, 200);
    expect(await host.sh("test ! -e /usr/bin/demo-launcher && test -e /etc/demo-launcher/config.yaml && test -d /var/lib/demo-launcher/state && echo kept")).toBe("kept");
    await host.sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y demo-launcher");
    expect(await host.sh("test ! -e /var/lib/demo-launcher && test ! -e /etc/demo-launcher && echo gone")).toBe("gone");
    // Debian keeps system users after a purge (their id may own files elsewhere).
    expect(await host.sh("getent passwd demo-launcher | cut -d: -f1")).toBe("demo-launcher");
  }, 600_000);
});
