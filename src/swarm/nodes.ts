// The swarm's nodes: the manager check, Docker clients for other nodes' APIs, and what `doctor` shows of each node.
import type Docker from "dockerode";
import { SetupError, describeError } from "../core/errors.js";
import { LABEL_PREFIX } from "../core/model.js";

export interface NodeReport {
  hostname: string;
  address: string;
  role: string;
  state: string;
  availability: string;
  demos: number;
  /** What the node has, minus the limits of the demos on it. */
  freeCpus: number;
  freeMemoryBytes: number;
}

interface NodeInfo {
  ID: string;
  Spec: { Role: string; Availability: string };
  Description: { Hostname: string; Resources: { NanoCPUs: number; MemoryBytes: number } };
  Status: { State: string; Addr: string };
}

interface TaskInfo {
  NodeID?: string;
  ServiceID: string;
  Status: { State: string };
  Spec: { Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number } } };
}

export async function swarmNodes(docker: Docker, namespace: string): Promise<NodeReport[]> {
  const nodes = (await docker.listNodes()) as NodeInfo[];
  const services = (await docker.listServices({ filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`] } })) as Array<{ ID: string }>;
  const ours = new Set(services.map((service) => service.ID));
  const tasks = ((await docker.listTasks({ filters: { "desired-state": ["running"] } })) as TaskInfo[]).filter((task) => ours.has(task.ServiceID));
  return nodes.map((node) => {
    const here = tasks.filter((task) => task.NodeID === node.ID);
    const usedCpus = here.reduce((sum, task) => sum + (task.Spec.Resources?.Limits?.NanoCPUs ?? 0), 0) / 1e9;
    const usedMemory = here.reduce((sum, task) => sum + (task.Spec.Resources?.Limits?.MemoryBytes ?? 0), 0);
    return {
      hostname: node.Description.Hostname,
      address: node.Status.Addr,
      role: node.Spec.Role,
      state: node.Status.State,
      availability: node.Spec.Availability,
      demos: here.length,
      freeCpus: Math.round((node.Description.Resources.NanoCPUs / 1e9 - usedCpus) * 10) / 10,
      freeMemoryBytes: node.Description.Resources.MemoryBytes - usedMemory,
    };
  });
}

/** The registry's API root answers 200 (or 401 when it wants a login) when it is there. */
export async function registryAnswers(registry: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const answer = await fetch(`http://${registry}/v2/`, { signal: AbortSignal.timeout(3000) });
    return answer.status === 200 || answer.status === 401 ? { ok: true, detail: `${registry} answers` } : { ok: false, detail: `${registry} answered ${answer.status}` };
  } catch (error) {
    return { ok: false, detail: `${registry} does not answer: ${describeError(error)} (every node pulls demo images from it)` };
  }
}

/** Refuses a daemon that is not a swarm manager, with what to do about it. */
export async function assertSwarmManager(docker: Docker): Promise<void> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  if (info.Swarm?.ControlAvailable) return;
  throw new SetupError(`runtime: swarm needs a swarm manager, and this Docker daemon is not one (its swarm state: ${info.Swarm?.LocalNodeState || "inactive"})`, "run the controller against a manager: `docker swarm init` here, or DOCKER_HOST pointing at a manager; or set runtime: docker");
}

/** Docker clients for the nodes in swarm.nodes (unix sockets, or tcp:// with Docker's TLS client files). */
export async function nodeDockers(config: { swarm: { nodes: Array<{ address: string; docker: string; certs?: string | undefined }> } }): Promise<Map<string, Docker>> {
  const { default: DockerClient } = await import("dockerode");
  const { readFile } = await import("node:fs/promises");
  const clients = new Map<string, Docker>();
  for (const node of config.swarm.nodes) {
    if (node.docker.startsWith("unix://")) {
      clients.set(node.address, new DockerClient({ socketPath: node.docker.slice("unix://".length) }));
      continue;
    }
    const url = new URL(node.docker);
    const tls = node.certs ? { ca: await readFile(`${node.certs}/ca.pem`), cert: await readFile(`${node.certs}/cert.pem`), key: await readFile(`${node.certs}/key.pem`) } : {};
    clients.set(node.address, new DockerClient({ host: url.hostname, port: Number(url.port), protocol: node.certs ? "https" : "http", ...tls }));
  }
  return clients;
}
