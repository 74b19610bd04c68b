// The .deb as built by `npm run package:deb`: what it holds and declares (dpkg-deb), and lintian's verdict: no error or
// warning but those packaging/deb/lintian-overrides names with its reasons.
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { debianPackage } from "../support/debian-host.js";

describe("the .deb", () => {
  let deb: string;
  beforeAll(async () => {
    deb = await debianPackage();
  }, 300_000);

  it("holds the controller, its runtime, the units, the nginx site and the config, and declares what it calls", async () => {
    const field = async (name: string) => (await execa("dpkg-deb", ["--field", deb, name])).stdout.trim();
    expect(await field("Package")).toBe("demo-launcher");
    expect(await field("Architecture")).toBe("amd64");
    const depends = (await field("Depends")).split(/,\s*/);
    expect(depends).toEqual(expect.arrayContaining(["docker.io | docker-ce", "nginx", "git", "iptables", "adduser"]));
    const files = (await execa("dpkg-deb", ["--contents", deb])).stdout.split("\n").map((line) => line.split(/\s+/).slice(5).join(" ").replace(/^\./, ""));
    for (const file of ["/usr/bin/demo-launcher", "/usr/lib/demo-launcher/bin/node", "/usr/lib/demo-launcher/dist/cli/main.js", "/usr/lib/demo-launcher/templates/nginx/routes.conf.eta", "/lib/systemd/system/demo-launcher.service", "/lib/systemd/system/demo-launcher-watcher.service", "/etc/nginx/sites-available/demo-launcher", "/etc/nginx/demo-launcher/locations.conf", "/etc/demo-launcher/config.yaml", "/usr/share/doc/demo-launcher/copyright", "/usr/share/man/man1/demo-launcher.1.gz"]) {
      expect(files, file).toContain(file);
    }
    // Built code only: no sources, tests or dev dependencies ride along.
    expect(files.filter((file) => /\/(src|test|node_modules)\/|\.ts$/.test(file))).toEqual([]);
    const conffiles = (await execa("bash", ["-c", `dpkg-deb --ctrl-tarfile "${deb}" | tar -xO ./conffiles`])).stdout.split("\n");
    expect(conffiles).toEqual(expect.arrayContaining(["/etc/demo-launcher/config.yaml", "/etc/nginx/sites-available/demo-launcher"]));
  });

  it("passes lintian but for the overrides it ships", async () => {
    // Without the spelling check of binaries: it reads Node.js's 117 MB for typos (a third of lintian's time) and can
    // only say "info" about Node's own strings.
    const result = await execa("lintian", ["--fail-on", "error,warning", "--dont-check-part", "binaries/spelling", deb], { reject: false, all: true });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all.split("\n").filter((line) => /^[EW]: /.test(line))).toEqual([]);
  });
});
