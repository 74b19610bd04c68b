// Runs a private nginx under its own prefix (for `up` and the tests): never touches the host's nginx.
import { access, chown, copyFile, mkdir, readdir, readFile, readlink, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import os from "node:os";
import { constants } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Eta } from "eta";
import { execa, type ResultPromise } from "execa";
import { SetupError } from "../core/errors.js";
import type { Address } from "../config/schema.js";
import { DEFAULT_TEMPLATES_DIR, PACKAGE_ROOT, formatAddress } from "./render.js";
import { writeIfChanged } from "../files/atomic.js";
import { systemScheduler } from "../clock/system-scheduler.js";

export async function findNginx(): Promise<string> {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"]) {
    if (!dir) continue;
    const candidate = path.join(dir, "nginx");
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new SetupError("nginx is not installed", "install it with `apt-get install nginx-light` (or run `npm start`, which does)");
}

export interface PrivateNginxOptions {
  prefix: string;
  configDir: string;
  listen: Address;
  /** Requests to previews are logged there by routes.conf; without it this nginx logs nothing at all. */
  seenLog?: string | undefined;
  /** HTTPS there (routes.conf names the certificate), plain HTTP redirected to it; `publicPort`: the port in those redirects. */
  tls?: { listen: Address; publicPort?: number } | undefined;
}

export class PrivateNginx {
  private child: ResultPromise | undefined;
  private exitError: string | undefined;

  private constructor(readonly binary: string, readonly options: PrivateNginxOptions, readonly confFile: string, private readonly tempDir: string) {}

  /** Writes nginx.conf and the shared locations into the prefix; returns a handle ready to start. */
  static async prepare(options: PrivateNginxOptions): Promise<PrivateNginx> {
    const binary = await findNginx();
    const { prefix } = options;
    for (const dir of ["conf/demo-launcher", "logs"]) await mkdir(path.join(prefix, dir), { recursive: true });
    // The same locations file that production uses, so the tests exercise the shipped config.
    const shippedDir = path.join(PACKAGE_ROOT, "nginx");
    for (const file of await readdir(shippedDir)) {
      if (file !== "site.conf") await copyFile(path.join(shippedDir, file), path.join(prefix, "conf/demo-launcher", file));
    }
    // Made here, not at start: `nginx -t` (the watcher's test command) needs it while nginx is stopped too.
    // Removed by close(), which every caller reaches.
    const tempDir = await prepareTempDir(prefix);
    const eta = new Eta({ views: DEFAULT_TEMPLATES_DIR, autoEscape: false });
    const confFile = path.join(prefix, "conf/nginx.conf");
    const tls = options.tls ? { listen: formatAddress(options.tls.listen), redirectPort: redirectPort(options.tls.publicPort ?? options.tls.listen.port), http2OnListen: await http2OnListen(binary) } : undefined;
    await writeIfChanged(confFile, eta.render("nginx/private-nginx.conf.eta", { prefix, tempDir, configDir: options.configDir, listen: formatAddress(options.listen), logsPreviews: Boolean(options.seenLog), tls }));
    return new PrivateNginx(binary, options, confFile, tempDir);
  }

  private args(): string[] {
    return ["-p", this.options.prefix, "-c", this.confFile];
  }

  get testCommand(): string {
    return [this.binary, "-t", "-q", ...this.args()].join(" ");
  }

  get reloadCommand(): string {
    return [this.binary, "-s", "reload", ...this.args()].join(" ");
  }

  /**
   * An nginx left behind by an `up` that was killed (SIGKILL skips our clean-up) still holds the port: its
   * master (named by our pid file, its command line naming our own nginx.conf), or, when the master was
   * killed too, its orphaned workers (which keep our prefix's error log open). Both can be nobody else's.
   */
  private async stopLeftover(): Promise<void> {
    const pidText = await readFile(path.join(this.options.prefix, "nginx.pid"), "utf8").catch(() => "");
    const pid = Number(pidText.trim());
    if (Number.isInteger(pid) && pid > 1 && (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(this.confFile)) {
      await stopProcess(pid, "SIGQUIT");
    }
    for (const orphan of await processesHoldingFilesUnder(this.options.prefix, "nginx:")) await stopProcess(orphan, "SIGKILL");
  }

  async start(): Promise<void> {
    await this.stopLeftover();
    // nginx -t makes its temp dirs too, but not their parent: made by prepare, and again here in case the
    // system's temp dir was cleaned meanwhile (or the handle was closed); a mkdir and chown, once per start.
    await prepareTempDir(this.options.prefix);
    const test = await execa(this.binary, ["-t", "-q", ...this.args()], { reject: false, all: true });
    if (test.failed) throw new SetupError(`nginx refused its config: ${(test.all ?? "").trim()}`);
    if (await isListening(this.options.listen)) {
      throw new SetupError(`${formatAddress(this.options.listen)} is already in use`, "stop what listens there or set nginx.listen to another address");
    }
    // Started again after a stop: the previous run's exit says nothing about this one.
    this.exitError = undefined;
    // Its own process group: Ctrl-C on `npm start` reaches the controller alone, which removes the demos while
    // nginx still runs and only then stops nginx (a terminal's SIGINT to nginx too would beat that clean-up).
    const child = execa(this.binary, this.args(), { reject: false, all: true, stdin: "ignore", detached: true });
    this.child = child;
    void child.then((result) => {
      if (this.child === child) this.exitError = String(result.all ?? "").trim() || `nginx exited with code ${result.exitCode}`;
    });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (this.exitError) throw new SetupError(`nginx did not start: ${this.exitError}`);
      if (await isListening(this.options.listen)) return;
      await systemScheduler.sleep(50);
    }
    throw new SetupError(`nginx did not listen on ${formatAddress(this.options.listen)} within 5 s`);
  }

  get running(): boolean {
    return this.child !== undefined && this.exitError === undefined;
  }

  /** Stops nginx and removes what prepare made outside the prefix; safe to call twice. */
  async close(): Promise<void> {
    await this.stop();
    // Root's nginx keeps its body buffers in the system's temp dir (see prepareTempDir): ours to remove.
    if (path.dirname(this.tempDir) === os.tmpdir()) await rm(this.tempDir, { recursive: true, force: true });
  }

  /** Graceful stop (SIGQUIT lets requests in flight finish); safe to call twice; start() may follow. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || this.exitError !== undefined) return;
    child.kill("SIGQUIT");
    const cancel = systemScheduler.after(5000, () => child.kill("SIGKILL"), { keepAlive: true });
    await child.catch(() => {});
    cancel();
  }
}

function redirectPort(port: number): string {
  return port === 443 ? "" : `:${port}`;
}

/** nginx before 1.25.1 turns HTTP/2 on with `listen … http2`; later ones with `http2 on;` (the old way is deprecated). */
async function http2OnListen(binary: string): Promise<boolean> {
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(String((await execa(binary, ["-v"], { reject: false, all: true })).all ?? ""));
  if (!version) return true;
  const [major, minor, patch] = version.slice(1).map(Number) as [number, number, number];
  return major * 1_000_000 + minor * 1000 + patch < 1_025_001;
}

/** Sends the signal and waits up to 5 s for the process to go; then kills it. */
async function stopProcess(pid: number, signal: NodeJS.Signals): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (!(await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""))) return;
    await systemScheduler.sleep(50);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

/** Processes whose command line starts with `name` and that hold a file under `dir` open (Linux /proc). */
async function processesHoldingFilesUnder(dir: string, name: string): Promise<number[]> {
  const found: number[] = [];
  const prefix = `${path.resolve(dir)}/`;
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (!commandLine.startsWith(name)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => "");
      if (target.startsWith(prefix)) {
        found.push(Number(entry));
        break;
      }
    }
  }
  return found;
}

/**
 * nginx started as root runs its workers as nobody, and they buffer large bodies in the temp dirs.
 * A checkout under /root is closed to nobody, so root's private nginx keeps its temp dirs in /tmp.
 */
function tempDirFor(prefix: string): string {
  if (process.getuid?.() !== 0) return path.join(prefix, "temp");
  return path.join(os.tmpdir(), `demo-launcher-nginx-${createHash("sha256").update(prefix).digest("hex").slice(0, 12)}`);
}

async function prepareTempDir(prefix: string): Promise<string> {
  const dir = tempDirFor(prefix);
  if (process.getuid?.() !== 0) {
    await mkdir(dir, { recursive: true });
    return dir;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chown(dir, NOBODY_ID, NOBODY_ID);
  return dir;
}

const NOBODY_ID = 65534;

export function isListening(address: Address): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
