// The package tests' "fresh Debian host": a container of the local mmdebstrap base (no systemd running, apt from
// Debian's archive) on the host's network with the host's Docker socket, so the controller installed in it launches
// demos on the real Docker and its nginx reaches them on 127.0.0.1 (NET_ADMIN: the unit's firewall step, as on a host).
// The packages it installs come from scripts/package-deb.sh: this checkout's, and the last release's (the commit the
// README names).
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

/**
 * This checkout's .deb, or the last release's (`previous`: the commit README.md names), from scripts/package-deb.sh;
 * `npm test` builds both before the tier and says where.
 */
export async function debianPackage(which: "current" | "previous" = "current"): Promise<string> {
  const given = which === "previous" ? process.env.DEMO_LAUNCHER_PREVIOUS_DEB : process.env.DEMO_LAUNCHER_DEB;
  if (given) return given;
  const result = await execa("bash", [path.join(PACKAGE_ROOT, "scripts/package-deb.sh"), ...(which === "previous" ? ["--previous"] : [])], { all: true, reject: false });
  if (result.exitCode !== 0) throw new Error(`scripts/package-deb.sh (${which}) failed: ${result.all}`);
  return result.stdout.trim().split("\n").at(-1)!;
}

export interface DebianHost {
  name: string;
  /** Runs a bash script in the container as root; rejects with its output when it fails. */
  sh(script: string, options?: { env?: Record<string, string> }): Promise<string>;
  /**
   * Satisfies `docker.io | docker-ce` with an empty `docker-ce` package: the controller talks to the host's Docker
   * through the socket, so a test about something else need not unpack a Docker engine it never runs.
   */
  standInForDocker(): Promise<void>;
  /** Starts a long-running command in the background, its output in `log` inside the container. */
  spawn(command: string, log: string, options?: { user?: string }): Promise<void>;
  close(): Promise<void>;
}

const BASE_IMAGE = "demo-launcher-base/debian:bookworm";

/**
 * What runs in the container runs at the test process's lower priority when the tier runs beside another
 * (DEMO_LAUNCHER_TEST_NICE, set by `npm test`): docker exec starts processes outside this process's tree.
 */
export const NICE = process.env.DEMO_LAUNCHER_TEST_NICE ? ["nice", "-n", process.env.DEMO_LAUNCHER_TEST_NICE] : [];

/** `cache`: the folder of downloaded packages kept between runs, one per test file (apt locks it while it runs). */
export async function startDebianHost(options: { packages: string[]; cache: string; mounts?: string[] }): Promise<DebianHost> {
  await execa("bash", [path.join(PACKAGE_ROOT, "scripts/ensure-base-image.sh")]);
  const name = `demo-launcher-debian-host-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  // Downloaded packages are kept between runs on this machine; apt still asks Debian's archive what to install.
  const aptCache = path.join(PACKAGE_ROOT, ".cache/apt-archives", options.cache);
  await mkdir(path.join(aptCache, "partial"), { recursive: true });
  const mounts = [...new Set(options.packages.map((file) => path.dirname(file)))].flatMap((dir) => ["-v", `${dir}:${dir}:ro`]);
  await execa("docker", ["run", "-d", "--name", name, "--network", "host", "--cap-add", "NET_ADMIN", "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", `${aptCache}:/var/cache/apt/archives`, ...mounts, ...(options.mounts ?? []).flatMap((mount) => ["-v", mount]), BASE_IMAGE, "sleep", "infinity"]);
  const sh: DebianHost["sh"] = async (script, shOptions = {}) => {
    const env = Object.entries(shOptions.env ?? {}).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
    const result = await execa("docker", ["exec", ...env, name, ...NICE, "bash", "-euo", "pipefail", "-c", script], { all: true, reject: false });
    if (result.exitCode !== 0) throw new Error(`in ${name}, exit ${result.exitCode}:\n${script}\n--- output:\n${result.all}`);
    return result.stdout;
  };
  const socketGroup = (await stat("/var/run/docker.sock")).gid;
  // No init here: services a package starts would run on the host's network (nginx on :80, a second dockerd), so
  // none may start (policy-rc.d's 101, as in Debian's own images). The docker group takes the socket's id. dpkg
  // unpacks without an fsync per file (force-unsafe-io, as Debian's own images do): a throwaway container, and the
  // tier runs beside another whose disk it would otherwise hold up.
  await sh(`printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
getent group docker >/dev/null || groupadd --system --gid ${socketGroup} docker
echo 'APT::Keep-Downloaded-Packages "true";' >/etc/apt/apt.conf.d/90keep
echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/unsafe-io
rm -f /etc/apt/apt.conf.d/docker-clean`);
  return {
    name,
    sh,
    async standInForDocker() {
      await sh(`mkdir -p /tmp/docker-ce/DEBIAN
printf 'Package: docker-ce\\nVersion: 0.0~stand-in\\nArchitecture: all\\nMaintainer: tests <tests@demo-launcher.invalid>\\nDescription: the host Docker, reached through its socket\\n' >/tmp/docker-ce/DEBIAN/control
dpkg-deb --build /tmp/docker-ce /tmp/docker-ce.deb >/dev/null && dpkg -i /tmp/docker-ce.deb >/dev/null`);
    },
    async spawn(command, log, spawnOptions = {}) {
      const run = spawnOptions.user ? `runuser -u ${spawnOptions.user} -- ${command}` : command;
      await execa("docker", ["exec", "-d", name, ...NICE, "bash", "-c", `exec ${run} >${log} 2>&1`]);
    },
    async close() {
      await execa("docker", ["rm", "-f", name], { reject: false });
    },
  };
}
