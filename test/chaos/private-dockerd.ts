// A Docker daemon of the suite's own (own socket, data and exec roots), so it can be restarted without
// touching the host's daemon. It must run in a network namespace of its own (see docker-restart.ts): a
// second daemon on the host's network deletes the host's docker0 when it restarts.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import type { Row } from "./report.js";

export class PrivateDockerd {
  private process: ChildProcess | undefined;
  readonly socket: string;
  readonly host: string;
  readonly docker: Docker;

  private constructor(readonly root: string, private readonly extraArgs: readonly string[] = []) {
    this.socket = path.join(root, "docker.sock");
    this.host = `unix://${this.socket}`;
    this.docker = new Docker({ socketPath: this.socket });
  }

  /** `extraArgs`: more dockerd flags, e.g. --userns-remap=default. */
  static async start(extraArgs: readonly string[] = []): Promise<PrivateDockerd> {
    // Short paths: containerd's sockets live under the exec root and unix socket paths are limited to 108 bytes.
    const daemon = new PrivateDockerd(await mkdtemp(path.join(os.tmpdir(), "dlc-")), extraArgs);
    // A remapped root (userns-remap) must be able to pass through to its own data directory.
    await chmod(daemon.root, 0o711);
    await daemon.launch();
    return daemon;
  }

  private async launch(): Promise<void> {
    const log = openSync(path.join(this.root, "dockerd.log"), "a");
    const args = [
      `--data-root=${path.join(this.root, "data")}`,
      `--exec-root=${path.join(this.root, "exec")}`,
      `--pidfile=${path.join(this.root, "dockerd.pid")}`,
      `--host=${this.host}`,
      // Published ports then go through docker-proxy, which is all a loopback binding needs.
      "--iptables=false",
      "--ip-masq=false",
      // Containers that ignore SIGTERM hold a shutdown for this long at most.
      "--shutdown-timeout=2",
      ...this.extraArgs,
    ];
    this.process = spawn("dockerd", args, { stdio: ["ignore", log, log], detached: false });
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      if (this.process.exitCode !== null) throw new Error(`the private dockerd exited at start; see ${path.join(this.root, "dockerd.log")}`);
      if (await this.docker.ping().then(() => true, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the private dockerd did not answer within 30 s; see ${path.join(this.root, "dockerd.log")}`);
  }

  /** SIGTERM, the way `systemctl restart docker` stops it: it stops every container on the way down. */
  private async terminate(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops and starts the daemon; returns how long it did not answer. */
  async restart(): Promise<number> {
    const down = Date.now();
    await this.terminate();
    await this.launch();
    return Date.now() - down;
  }

  async stop(): Promise<void> {
    const containers = await this.docker.listContainers({ all: true }).catch(() => []);
    await Promise.all(containers.map((info) => this.docker.getContainer(info.Id).remove({ force: true }).catch(() => {})));
    // Its networks' bridges would outlive it on the host otherwise.
    const networks = await this.docker.listNetworks().catch(() => []);
    await Promise.all(networks.filter((network) => !["bridge", "host", "none"].includes(network.Name)).map((network) => this.docker.getNetwork(network.Id).remove().catch(() => {})));
    await this.terminate();
    // Anything the daemon left mounted under its root must go before the directory can.
    await execa("sh", ["-c", `grep -o " ${this.root}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { reject: false });
    // Its log is kept for whoever reads a failed run.
    await mkdir(path.join(PACKAGE_ROOT, "test-output"), { recursive: true });
    await copyFile(path.join(this.root, "dockerd.log"), path.join(PACKAGE_ROOT, "test-output/chaos-dockerd.log")).catch(() => {});
    await rm(this.root, { recursive: true, force: true }).catch(() => {});
  }
}

const ROWS_PREFIX = "chaos-rows: ";

/**
 * Runs a scenario file in a network namespace of its own: its private dockerd, nginx, controller and requests
 * all live there. On the host's network a second daemon deletes the host's docker0 when it restarts (dockerd
 * re-creates its default network at start and takes the host's bridge with it). The file calls runIfMain.
 */
export async function runInOwnNetns(file: string, args: string[], log: (line: string) => void): Promise<Row[]> {
  const namespace = `dlc-${Math.random().toString(36).slice(2, 8)}`;
  const setup = await execa("sh", ["-c", `ip netns add ${namespace} && ip netns exec ${namespace} ip link set lo up`], { reject: false, all: true });
  if (setup.exitCode !== 0) throw new Error(`this scenario needs a network namespace (root and iproute2): ${setup.all}`);
  try {
    // nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts dockerd needs.
    const child = execa("nsenter", [`--net=/run/netns/${namespace}`, "npx", "tsx", file, ...args], { reject: false, all: true, cwd: PACKAGE_ROOT });
    let rows: Row[] | undefined;
    child.all!.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.startsWith(ROWS_PREFIX)) rows = JSON.parse(line.slice(ROWS_PREFIX.length)) as Row[];
        else if (line.trim()) log(line);
      }
    });
    const result = await child;
    if (!rows) throw new Error(`the scenario in namespace ${namespace} ended (exit ${result.exitCode}) without a result`);
    return rows;
  } finally {
    await execa("ip", ["netns", "del", namespace], { reject: false });
  }
}

/** Inside the namespace: runs the scenario when this module is the one tsx was started with, and prints its rows. */
export function runIfMain(moduleUrl: string, scenario: (args: string[], log: (line: string) => void) => Promise<Row[]>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  scenario(process.argv.slice(2), (line) => console.log(line)).then(
    (rows) => {
      console.log(`${ROWS_PREFIX}${JSON.stringify(rows)}`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
