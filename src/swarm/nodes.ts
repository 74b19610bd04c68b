// What `doctor` shows of a swarm: the manager, the registry, and each node with its demos and free capacity.
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
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
