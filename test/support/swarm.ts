// A real 3-node Docker Swarm on this one machine: three dockerd, each in a network namespace of its own joined by
// a bridge, all managers, and a private registry (Debian's docker-registry) on the bridge that every node can pull from.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { splitReference } from "../../src/swarm/registry.js";
import { waitFor } from "./stack.js";

/** The lab's own addresses: a /24 no host network is likely to use. */
export const SWARM_SUBNET = "10.213.0";
export const BRIDGE = "dls-br0";
export const HOST_ADDRESS = `${SWARM_SUBNET}.1`;
export const REGISTRY = `${HOST_ADDRESS}:5000`;
const ROOT = "/tmp/dls";

export interface SwarmNode {
  index: number;
  name: string;
  netns: string;
  address: string;
  socket: string;
  docker: Docker;
  process?: ChildProcess;
  /** The last node also answers on tcp:// with mutual TLS (Docker's --tlsverify): how a real cluster exposes a node's API. */
  tls?: { url: string; certs: string };
}

/** Each node's containers live under the cgroup `/dls-n<index>` (in every hierarchy on cgroup v1). */
const CGROUP_PREFIX = "dls-n";
/** A shell command that kill -9s every process in a node's cgroups, on cgroup v1 and v2 alike. */
const killCgroup = (index: number) => `find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name ${CGROUP_PREFIX}${index} -exec find {} -name cgroup.procs \\; 2>/dev/null | xargs -r cat | sort -u | xargs -r kill -9`;

const sh = (script: string) => execa("sh", ["-c", script], { all: true });
const shQuiet = (script: string) => execa("sh", ["-c", script], { reject: false, all: true });

export class LocalSwarm {
  private registry?: ChildProcess;

  private constructor(readonly nodes: SwarmNode[]) {}

  static async start(count = 3): Promise<LocalSwarm> {
    for (const tool of ["dockerd", "ip", "nsenter", "docker-registry", "iptables", "openssl"]) {
      if ((await shQuiet(`command -v ${tool}`)).exitCode !== 0) throw new Error(`The swarm tests need ${tool}; run scripts/ensure-host.sh --browser.`);
    }
    await LocalSwarm.cleanUp(count);
    const nodes: SwarmNode[] = Array.from({ length: count }, (_, i) => {
      const index = i + 1;
      const socket = path.join(ROOT, `n${index}`, "docker.sock");
      return { index, name: `dls-n${index}`, netns: `dls-n${index}`, address: `${SWARM_SUBNET}.${10 + index}`, socket, docker: new Docker({ socketPath: socket }) };
    });
    const last = nodes[nodes.length - 1]!;
    last.tls = { url: `tcp://${last.address}:2376`, certs: await LocalSwarm.makeCertificates(last.address) };
    const swarm = new LocalSwarm(nodes);
    await sh(`ip link add ${BRIDGE} type bridge && ip addr add ${HOST_ADDRESS}/24 dev ${BRIDGE} && ip link set ${BRIDGE} up`);
    // Docker sets the host's FORWARD policy to DROP, and bridged frames pass through it: let the nodes talk.
    await sh(`iptables -w -I DOCKER-USER -i ${BRIDGE} -o ${BRIDGE} -j ACCEPT 2>/dev/null || iptables -w -I FORWARD -i ${BRIDGE} -o ${BRIDGE} -j ACCEPT`);
    for (const node of nodes) {
      await sh(`ip netns add ${node.netns} && ip link add dls-v${node.index} type veth peer name eth0 netns ${node.netns} && ip link set dls-v${node.index} master ${BRIDGE} up && ip -n ${node.netns} addr add ${node.address}/24 dev eth0 && ip -n ${node.netns} link set eth0 up && ip -n ${node.netns} link set lo up && ip -n ${node.netns} route add default via ${HOST_ADDRESS}`);
    }
    await swarm.startRegistry();
    await Promise.all(nodes.map((node) => swarm.startDaemon(node)));
    const first = nodes[0]!;
    // A 2 s heartbeat (5 s by default): a dead node is noticed, and its tasks moved, within seconds; 1 s was too tight
    // for a loaded 2-core CI host (a live node was marked down and stayed so).
    await first.docker.swarmInit({ ListenAddr: `${first.address}:2377`, AdvertiseAddr: first.address, ForceNewCluster: false, Spec: { Dispatcher: { HeartbeatPeriod: 2_000_000_000 } } });
    const { JoinTokens } = (await first.docker.swarmInspect()) as { JoinTokens: { Manager: string } };
    // All managers: the cluster keeps its quorum when one node dies, and a controller can move to another manager.
    for (const node of nodes.slice(1)) await node.docker.swarmJoin({ ListenAddr: `${node.address}:2377`, AdvertiseAddr: node.address, RemoteAddrs: [`${first.address}:2377`], JoinToken: JoinTokens.Manager });
    await waitFor("every node to be ready", async () => {
      const listed = (await first.docker.listNodes()) as Array<{ Status: { State: string } }>;
      return listed.length === count && listed.every((node) => node.Status.State === "ready");
    }, 60_000, 500);
    return swarm;
  }

  get manager(): SwarmNode {
    return this.nodes[0]!;
  }

  /** Copies an image of the host's daemon to a node's daemon (the manager's by default), as `docker save | docker load`. */
  async loadFromHost(hostDocker: Docker, image: string, node: SwarmNode = this.manager): Promise<void> {
    const tar = await hostDocker.getImage(image).get();
    await new Promise<void>((resolve, reject) => {
      node.docker.loadImage(tar, (error: Error | null, stream?: NodeJS.ReadableStream) => {
        if (error || !stream) return reject(error ?? new Error("no answer to the image load"));
        node.docker.modem.followProgress(stream, (failed: Error | null) => (failed ? reject(failed) : resolve()));
      });
    });
  }

  /** Copies an image of the host's daemon into the registry (through the first node), as `<registry>/<name>`. */
  async pushFromHost(hostDocker: Docker, image: string): Promise<string> {
    const target = `${REGISTRY}/${image}`;
    await this.loadFromHost(hostDocker, image);
    const [repo, tag] = splitReference(target);
    await this.manager.docker.getImage(image).tag({ repo, tag });
    const stream = await this.manager.docker.getImage(target).push({ authconfig: { serveraddress: REGISTRY } } as object);
    await new Promise<void>((resolve, reject) =>
      this.manager.docker.modem.followProgress(stream, (failed: Error | null, output: Array<{ error?: string }>) => {
        const problem = failed?.message ?? output.find((event) => event.error)?.error;
        return problem ? reject(new Error(`push of ${target}: ${problem}`)) : resolve();
      }),
    );
    return target;
  }

  /**
   * The machine dies: kill -9 of its dockerd and containerd (the processes in its network namespace) and of every
   * container it ran (in their own namespaces, found by the node's cgroup parent): none of its demos answers on.
   */
  async killNode(node: SwarmNode): Promise<void> {
    await shQuiet(`ip netns pids ${node.netns} | xargs -r kill -9; ${killCgroup(node.index)}`);
    node.process = undefined;
  }

  /**
   * What a failed test needs to be understood after the lab is gone: each live node's view of the cluster (its
   * raft role, the leader, the nodes' states) and the last lines every dockerd wrote.
   */
  async report(lines = 40): Promise<string> {
    const parts: string[] = [];
    for (const node of this.nodes) {
      const info = (await node.docker.info().catch((error: Error) => ({ error: error.message }))) as { error?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Error?: string; Managers?: number; Nodes?: number } };
      parts.push(`${node.name} (${node.address}): ${info.error ? `no answer (${info.error})` : JSON.stringify(info.Swarm && { state: info.Swarm.LocalNodeState, manager: info.Swarm.ControlAvailable, managers: info.Swarm.Managers, nodes: info.Swarm.Nodes, error: info.Swarm.Error || undefined })}`);
      const listed = await node.docker.listNodes().catch((error: Error) => error.message);
      if (typeof listed === "string") parts.push(`  node list: ${listed}`);
      else for (const entry of listed as Array<{ ID: string; Status: { Addr: string; State: string }; Spec: { Availability: string }; ManagerStatus?: { Leader?: boolean; Reachability: string } }>) parts.push(`  ${entry.ID.slice(0, 12)} ${entry.Status.Addr} ${entry.Status.State} ${entry.Spec.Availability}${entry.ManagerStatus ? ` manager ${entry.ManagerStatus.Reachability}${entry.ManagerStatus.Leader ? " leader" : ""}` : ""}`);
    }
    // The newest tasks, from the first manager that answers: where Swarm put each service and why a task ended.
    for (const node of this.nodes) {
      const tasks = (await node.docker.listTasks().catch(() => undefined)) as Array<{ ServiceID: string; NodeID?: string; DesiredState: string; UpdatedAt: string; Status: { State: string; Err?: string } }> | undefined;
      if (!tasks) continue;
      parts.push(`tasks (newest 30, from ${node.name}):`);
      for (const task of tasks.sort((a, b) => b.UpdatedAt.localeCompare(a.UpdatedAt)).slice(0, 30)) parts.push(`  ${task.UpdatedAt} service ${task.ServiceID.slice(0, 12)} node ${task.NodeID?.slice(0, 12) ?? "-"} ${task.Status.State} (wanted ${task.DesiredState})${task.Status.Err ? `: ${task.Status.Err}` : ""}`);
      break;
    }
    for (const node of this.nodes) {
      // gRPC's reconnect chatter would fill the tail; the scheduler's, raft's and the tasks' lines are what explain.
      const text = await readFile(path.join(ROOT, `n${node.index}`, "dockerd.log"), "utf8").catch(() => "");
      parts.push(`--- last lines of ${node.name}'s dockerd.log\n${text.split("\n").filter((line) => line && !line.includes("module=grpc")).slice(-lines).join("\n")}`);
    }
    return parts.join("\n");
  }

  /** Adds labels to a node (what placement constraints such as node.labels.size==big read). */
  async label(node: SwarmNode, labels: Record<string, string>): Promise<void> {
    const nodes = (await this.manager.docker.listNodes()) as Array<{ ID: string; Version: { Index: number }; Spec: Record<string, unknown> & { Labels?: Record<string, string> }; Status: { Addr: string } }>;
    const entry = nodes.find((candidate) => candidate.Status.Addr === node.address)!;
    await this.manager.docker.getNode(entry.ID).update({ version: entry.Version.Index, ...entry.Spec, Labels: { ...entry.Spec.Labels, ...labels } } as never);
  }

  /**
   * Waits until the manager sees every node ready: on a loaded machine a node can miss the lab's 2 s heartbeats and
   * be marked down for a while (seen in CI), and a test that kills another node needs the rest to take its tasks.
   */
  async allReady(timeoutMs = 60_000): Promise<void> {
    await waitFor("every swarm node to be ready", async () => ((await this.manager.docker.listNodes()) as Array<{ Status: { State: string } }>).every((node) => node.Status.State === "ready"), timeoutMs, 500);
  }

  /** Drains a node: Swarm moves its tasks to the others. */
  async drain(node: SwarmNode): Promise<void> {
    await this.setAvailability(node, "drain");
  }

  /** Takes a drained node back: Swarm may place tasks there again (those it could place nowhere else go there). */
  async activate(node: SwarmNode): Promise<void> {
    await this.setAvailability(node, "active");
  }

  private async setAvailability(node: SwarmNode, availability: "drain" | "active"): Promise<void> {
    const nodes = (await this.manager.docker.listNodes()) as Array<{ ID: string; Version: { Index: number }; Spec: Record<string, unknown>; Status: { Addr: string } }>;
    const entry = nodes.find((candidate) => candidate.Status.Addr === node.address)!;
    await this.manager.docker.getNode(entry.ID).update({ version: entry.Version.Index, ...entry.Spec, Availability: availability } as never);
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) {
      const services = await node.docker.listServices().catch(() => []);
      if (node === this.manager) await Promise.all(services.map((service: { ID: string }) => node.docker.getService(service.ID).remove().catch(() => {})));
    }
    // Each dockerd stops its containers and exits (--shutdown-timeout=2); cleanUp kills whatever is left.
    await Promise.all(this.nodes.map((node) => {
      const child = node.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      return exited;
    }));
    this.registry?.kill("SIGTERM");
    await LocalSwarm.cleanUp(this.nodes.length);
  }

  private async startRegistry(): Promise<void> {
    const dir = path.join(ROOT, "registry");
    await mkdir(dir, { recursive: true });
    const config = path.join(dir, "config.yml");
    await writeFile(config, `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${dir}/data }, delete: { enabled: true } }\nhttp: { addr: ${REGISTRY} }\n`);
    const log = openSync(path.join(dir, "registry.log"), "a");
    this.registry = spawn("docker-registry", ["serve", config], { stdio: ["ignore", log, log] });
    await waitFor("the registry to answer", async () => (await fetch(`http://${REGISTRY}/v2/`).catch(() => undefined))?.status === 200, 15_000, 200);
  }

  /** A CA, a server certificate for the address and a client certificate: the files Docker's TLS docs have you make. */
  private static async makeCertificates(address: string): Promise<string> {
    const dir = path.join(ROOT, "tls");
    await mkdir(path.join(dir, "client"), { recursive: true });
    await sh(`cd ${dir} && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out client/ca.pem -days 2 -subj /CN=dls-ca 2>/dev/null \
      && openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=${address} 2>/dev/null \
      && printf 'subjectAltName=IP:${address}\nextendedKeyUsage=serverAuth\n' > server.ext \
      && openssl x509 -req -in server.csr -CA client/ca.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem -days 2 -extfile server.ext 2>/dev/null \
      && openssl req -newkey rsa:2048 -nodes -keyout client/key.pem -out client.csr -subj /CN=demo-launcher 2>/dev/null \
      && printf 'extendedKeyUsage=clientAuth\n' > client.ext \
      && openssl x509 -req -in client.csr -CA client/ca.pem -CAkey ca-key.pem -CAcreateserial -out client/cert.pem -days 2 -extfile client.ext 2>/dev/null`);
    return path.join(dir, "client");
  }

  private async startDaemon(node: SwarmNode): Promise<void> {
    const dir = path.join(ROOT, `n${node.index}`);
    await mkdir(dir, { recursive: true });
    const log = openSync(path.join(dir, "dockerd.log"), "a");
    const tls = node.tls ? [`--host=${node.tls.url}`, "--tlsverify", `--tlscacert=${node.tls.certs}/ca.pem`, `--tlscert=${ROOT}/tls/server-cert.pem`, `--tlskey=${ROOT}/tls/server-key.pem`] : [];
    // nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts dockerd needs.
    // Its containers under a cgroup of its own (cgroupfs on any host, so the parent is a plain path): the lab can
    // kill them all, as a machine's death does, instead of leaving them running as orphans.
    node.process = spawn("nsenter", [`--net=/run/netns/${node.netns}`, "dockerd", "--exec-opt=native.cgroupdriver=cgroupfs", `--cgroup-parent=/${CGROUP_PREFIX}${node.index}`, `--data-root=${dir}/data`, `--exec-root=${dir}/exec`, `--pidfile=${dir}/dockerd.pid`, `--host=unix://${node.socket}`, ...tls, `--insecure-registry=${REGISTRY}`, "--shutdown-timeout=2"], { stdio: ["ignore", log, log] });
    await waitFor(`dockerd of ${node.name}`, async () => node.docker.ping().then(() => true, () => false), 30_000, 200);
  }

  /** Whatever an earlier run left: daemons, namespaces, the bridge, the rule, mounts, files. */
  static async cleanUp(count: number): Promise<void> {
    // Killed, then waited for until /proc no longer has them: a namespace or cgroup still in use cannot go.
    await shQuiet(`pids="$(cat ${ROOT}/n*/dockerd.pid 2>/dev/null) $(pgrep -f "docker-registry serve ${ROOT}")"; kill -9 $pids 2>/dev/null; for pid in $pids; do while [ -e /proc/$pid ]; do sleep 0.05; done; done; true`);
    for (let index = 1; index <= count; index += 1) await shQuiet(`${killCgroup(index)}; ip netns del dls-n${index}; ip link del dls-v${index}`);
    // The killed demos' processes are gone once their cgroups list none.
    await shQuiet(`for dir in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name '${CGROUP_PREFIX}*'); do while find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; do sleep 0.05; done; done; true`);
    // The emptied cgroups go too (deepest first; rmdir is how a cgroup is removed).
    for (let index = 1; index <= count; index += 1) await shQuiet(`find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name ${CGROUP_PREFIX}${index} | while read -r dir; do find "$dir" -depth -type d -exec rmdir {} \\; ; done`);
    await shQuiet(`ip link del ${BRIDGE}; while iptables -D DOCKER-USER -i ${BRIDGE} -o ${BRIDGE} -j ACCEPT 2>/dev/null; do :; done; while iptables -D FORWARD -i ${BRIDGE} -o ${BRIDGE} -j ACCEPT 2>/dev/null; do :; done`);
    await shQuiet(`grep -o " ${ROOT}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`);
    await rm(ROOT, { recursive: true, force: true }).catch(() => {});
  }
}
