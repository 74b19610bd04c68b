// A packaged demo-launcher set up in a Debian host container as an operator would: the config in
// /etc/demo-launcher/config.yaml, the packaged nginx site enabled (on this test's ports, with a local CA's
// certificate), and the processes the units start, each from its unit's own ExecStart line: the controller as the
// `demo-launcher` user, the watcher as root (reloading with `nginx -s reload`: no systemd runs here).
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import type { DemoView } from "../../src/api/views.js";
import { NICE, type DebianHost } from "./debian-host.js";
import type Docker from "dockerode";
import { bridgeOf } from "../../src/firewall/keeper.js";
import { removeFirewall } from "../../src/firewall/iptables.js";
import { freePort, removeNamespace, request, waitFor, type Answer } from "./stack.js";

export interface PackagedSetup {
  namespace: string;
  domain: string;
  adminToken: string;
  /** Writes the config (with `extraYaml` at the top level) and the nginx site; done once by start() when not before. */
  configure(extraYaml?: string): Promise<void>;
  /** The controller, then nginx (once routes.conf exists: it names the certificate), then the watcher. */
  start(): Promise<void>;
  /** SIGTERM to the controller, as systemd's stop: demos keep running. */
  stopController(): Promise<void>;
  startController(): Promise<void>;
  api(method: string, path: string, body?: unknown): Promise<Answer>;
  launch(app: string): Promise<DemoView>;
  /** A demo's page through the container's nginx over HTTPS (curl on this machine, the local CA not trusted: -k). */
  page(host: string): Promise<string>;
  /** Removes what it made on this machine's Docker and iptables: its demos, its networks and their rules. */
  remove(docker: Docker): Promise<void>;
}

const CONFIG = "/etc/demo-launcher/config.yaml";
/** The package tier's listeners: it runs beside another tier, whose listeners take 10000-19999 (freePort's default). */
export const PACKAGE_TIER_PORTS = { from: 20_000, to: 29_999 };

export async function packagedSetup(host: DebianHost): Promise<PackagedSetup> {
  const namespace = `pkg${Math.random().toString(36).slice(2, 8)}`;
  const domain = `${namespace}.test`;
  const adminToken = randomBytes(16).toString("hex");
  const ports = PACKAGE_TIER_PORTS;
  const [controllerPort, plainPort, tlsPort] = [await freePort(ports), await freePort(ports), await freePort(ports)];
  const portBase = 30000 + Math.floor(Math.random() * 60) * 500;
  let configured = false;
  const pidFile = "/run/demo-launcher-controller.pid";

  const configure = async (extraYaml = "") => {
    const config = `domain: ${domain}
namespace: ${namespace}
network: ${namespace}
listen: 127.0.0.1:${controllerPort}
stateDir: /var/lib/demo-launcher/state
adminToken: ${adminToken}
publicPort: ${tlsPort}
nginx:
  configDir: /var/lib/demo-launcher/nginx
  probeUrl: http://127.0.0.1:${plainPort}
  drain: 1s
tls: { local: true }
ports: { from: ${portBase}, to: ${portBase + 499} }
${extraYaml}
apps:
  hello: { image: demo-launcher/hello:latest, port: 8080, ttl: 30m, memory: 64m, pids: 64, readiness: { path: /, timeout: 20s } }
`;
    // The packaged site as it ships, but for the names and ports: nothing else here may take :80/:443.
    await host.sh(`cat >${CONFIG} <<'EOF'
${config}EOF
sed -e 's/demo\\.example\\.org/${domain}/g' \\
    -e 's/listen \\[::\\]:80\\b/listen [::1]:${plainPort}/; s/listen \\[::\\]:443\\b/listen [::1]:${tlsPort}/' \\
    -e 's/listen 80\\b/listen 127.0.0.1:${plainPort}/; s/listen 443\\b/listen 127.0.0.1:${tlsPort}/' \\
    /etc/nginx/sites-available/demo-launcher >/etc/nginx/sites-enabled/demo-launcher
rm -f /etc/nginx/sites-enabled/default`);
    configured = true;
  };

  const unitCommand = async (unit: string) => (await host.sh(`sed -n 's/^ExecStart=//p' /lib/systemd/system/${unit}`)).trim();
  const api = (method: string, path: string, body?: unknown) =>
    request(controllerPort, { method, path, headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const controllerLog = async () => host.sh("tail -n 40 /var/log/demo-launcher-controller.log 2>/dev/null || true");

  const startController = async () => {
    // ExecStartPre's "+": as root, the demo networks' egress rules (the host's iptables: this container shares its
    // network namespace and has NET_ADMIN).
    const before = (await host.sh("sed -n 's/^ExecStartPre=+//p' /lib/systemd/system/demo-launcher.service")).trim();
    if (before) await host.sh(before);
    // setpriv, unlike runuser, execs the command itself: the pid file names the controller (User=, Group=,
    // SupplementaryGroups=docker as the unit says).
    const command = await unitCommand("demo-launcher.service");
    await execa("docker", ["exec", "-d", host.name, ...NICE, "bash", "-c", `echo $$ >${pidFile}; exec setpriv --reuid=demo-launcher --regid=demo-launcher --init-groups ${command} >>/var/log/demo-launcher-controller.log 2>&1`]);
    await waitFor("the packaged controller to answer /healthz", async () => (await request(controllerPort, { path: "/healthz" }).catch(() => undefined))?.status === 200, 60_000, 200).catch(async (error: Error) => {
      throw new Error(`${error.message}; it said:\n${await controllerLog()}`);
    });
  };

  return {
    namespace,
    domain,
    adminToken,
    configure,
    async start() {
      if (!configured) await configure();
      await startController();
      await waitFor("routes.conf", async () => (await host.sh("test -s /var/lib/demo-launcher/nginx/routes.conf && echo yes || true")) === "yes", 30_000, 200);
      await host.sh("nginx -t -q && nginx");
      const watcher = (await unitCommand("demo-launcher-watcher.service")).replace('"systemctl reload nginx"', '"nginx -s reload"');
      await host.spawn(watcher, "/var/log/demo-launcher-watcher.log");
      await waitFor("nginx to answer the routes probe", async () => (await request(plainPort, { path: "/__demo/generation", host: domain }).catch(() => undefined))?.status === 200, 30_000, 200);
    },
    async stopController() {
      await host.sh(`pid="$(cat ${pidFile})"; kill -TERM "$pid"; tail --pid="$pid" -f /dev/null`);
    },
    startController,
    api,
    async launch(app) {
      const launched = await request(controllerPort, { method: "POST", path: "/api/demos", headers: { "content-type": "application/json" }, body: JSON.stringify({ app }) });
      if (launched.status !== 201) throw new Error(`launch of ${app}: ${launched.status} ${launched.body}`);
      const { id } = JSON.parse(launched.body) as { id: string };
      return waitFor(`${id} to be ready`, async () => {
        const view = JSON.parse((await api("GET", `/api/demos/${id}`)).body) as DemoView;
        if (view.status === "failed") throw new Error(`${id} failed: ${JSON.stringify(view)}; the controller said:\n${await controllerLog()}`);
        return view.status === "ready" ? view : undefined;
      }, 60_000, 200);
    },
    async remove(docker) {
      await removeNamespace(docker, namespace);
      // Its own networks (so its firewall step never rewrites the rules other tests' networks hold), and their rules.
      for (const name of [namespace, `${namespace}-build`]) {
        const bridge = await bridgeOf(docker, name).catch(() => undefined);
        await docker.getNetwork(name).remove().catch(() => {});
        if (bridge) await removeFirewall(bridge);
      }
    },
    async page(demoHost) {
      const result = await execa("curl", ["-sSk", "--max-time", "10", "--resolve", `${demoHost}:${tlsPort}:127.0.0.1`, "-w", "\n%{http_code}", `https://${demoHost}:${tlsPort}/`], { reject: false, all: true });
      const status = result.stdout.split("\n").at(-1);
      if (status !== "200") throw new Error(`https://${demoHost}:${tlsPort}/ answered ${status}: ${result.all}`);
      return result.stdout;
    },
  };
}
