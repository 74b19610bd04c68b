// An environment's objects on a swarm besides its services: its overlay network, its copied files as configs, its volumes on the nodes that ran them; each found and removed by its labels only.
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { call, statusCode } from "../docker/engine-api.js";
import { environmentNames, environmentObjectLabels as objectLabelsOf, filterOf, OBJECT_LABEL } from "../docker/environment.js";
import type { SwarmTasks } from "./tasks.js";


/** The environment's overlay network (its services reach each other by name on any node); a same-named network not ours is refused. */
export async function ensureOverlayNetwork(docker: Docker, namespace: string, key: string, labels: Record<string, string>): Promise<string> {
  const { network } = environmentNames(namespace, key);
  const existing = (await call(() => docker.listNetworks({ filters: { label: [...filterOf(labels), `${OBJECT_LABEL}=network`] } }))) as Array<{ Name: string }>;
  if (existing.some((entry) => entry.Name === network)) return network;
  const foreign = (await call(() => docker.listNetworks({ filters: { name: [network] } }))) as Array<{ Name: string }>;
  if (foreign.some((entry) => entry.Name === network)) throw new Error(`a network named ${network} exists and is not this demo's; remove it or use another namespace`);
  await call(() => docker.createNetwork({ Name: network, Driver: "overlay", CheckDuplicate: true, Labels: { ...labels, [OBJECT_LABEL]: "network" } }));
  return network;
}

/** Creates a config (a copied file) labelled as the demo's; one left by a start killed half-way is replaced. */
export async function createConfig(docker: Docker, name: string, data: Buffer, labels: Record<string, string>): Promise<string> {
  const create = () => call(() => docker.createConfig({ Name: name, Data: data.toString("base64"), Labels: { ...labels, [OBJECT_LABEL]: "config" } } as never)) as Promise<{ id?: string; ID?: string }>;
  try {
    const made = await create();
    return made.id ?? made.ID ?? "";
  } catch (error) {
    if (statusCode(error) !== 409) throw new Error(`${name} could not be made a Swarm config: ${describeError(error)}`, { cause: error });
    await call(() => docker.getConfig(name).remove()).catch(() => {});
    const made = await create();
    return made.id ?? made.ID ?? "";
  }
}

/** Configs of the demo that no service of it refers to any more (an instance removed; a kept member's stay). */
export async function removeUnusedConfigs(docker: Docker, namespace: string, demoId: string): Promise<void> {
  const labels = objectLabelsOf(namespace, demoId);
  const [configs, services] = await Promise.all([
    call(() => docker.listConfigs({ filters: { label: [...filterOf(labels), `${OBJECT_LABEL}=config`] } })) as Promise<Array<{ ID: string }>>,
    call(() => docker.listServices({ filters: { label: filterOf(labels) } })) as Promise<Array<{ Spec: { TaskTemplate?: { ContainerSpec?: { Configs?: Array<{ ConfigID: string }> } } } }>>,
  ]);
  const used = new Set(services.flatMap((service) => (service.Spec.TaskTemplate?.ContainerSpec?.Configs ?? []).map((config) => config.ConfigID)));
  for (const config of configs) if (!used.has(config.ID)) await call(() => docker.getConfig(config.ID).remove()).catch(ignoreGone);
}

/**
 * The network and volumes of a demo (or of one replica's, with `instanceId`) once no service of it is left. A
 * volume lives on the node that ran its service: each node whose API the controller has is asked, once the
 * containers Swarm is stopping there are gone. Volumes on a node without a configured API stay (doctor says so).
 */
export async function removeEnvironmentObjects(docker: Docker, tasks: SwarmTasks, namespace: string, demoId: string, instanceId?: string): Promise<void> {
  const labels = objectLabelsOf(namespace, demoId, instanceId);
  const services = (await call(() => docker.listServices({ filters: { label: filterOf(labels) } }))) as unknown[];
  await removeUnusedConfigs(docker, namespace, demoId);
  if (services.length > 0) return;
  const networks = (await call(() => docker.listNetworks({ filters: { label: [...filterOf(labels), `${OBJECT_LABEL}=network`] } }))) as Array<{ Id: string }>;
  await Promise.all([...networks.map((network) => removeNetwork(docker, network.Id)), ...tasks.allDockers().map((node) => removeVolumesOn(node, labels))]);
}

/** Swarm refuses to remove a network while tasks of removed services are still shutting down on it: waits for them. */
async function removeNetwork(docker: Docker, id: string): Promise<void> {
  const deadline = systemScheduler.now() + 60_000;
  for (;;) {
    try {
      return await call(() => docker.getNetwork(id).remove());
    } catch (error) {
      if (statusCode(error) === 404) return;
      if (!/in use|has active endpoints/i.test(describeError(error)) || systemScheduler.now() > deadline) return ignoreGone(error);
    }
    await systemScheduler.sleep(250);
  }
}

async function removeVolumesOn(node: Docker, labels: Record<string, string>): Promise<void> {
  const volumes = (((await call(() => node.listVolumes({ filters: { label: filterOf(labels) } }))) as { Volumes?: Array<{ Name: string }> }).Volumes ?? []);
  if (volumes.length === 0) return;
  // The removed services' containers are stopped by the node's agent on its own time: their volumes wait for that.
  const deadline = systemScheduler.now() + 60_000;
  while ((await call(() => node.listContainers({ all: true, filters: { label: filterOf(labels) } }))).length > 0) {
    if (systemScheduler.now() > deadline) return;
    await systemScheduler.sleep(250);
  }
  await Promise.all(volumes.map((volume) => call(() => node.getVolume(volume.Name).remove()).catch(ignoreGone)));
}

function ignoreGone(error: unknown): void {
  if (statusCode(error) === 404) return;
  throw new Error(`could not remove an environment's leftover: ${describeError(error)}`);
}

/** Demos (and replicas) that have objects and no service: what a controller killed half-way left behind. */
export async function orphanedObjects(docker: Docker, tasks: SwarmTasks, namespace: string, liveDemos: Set<string>, liveInstances: Set<string>): Promise<Array<{ demoId: string; instanceId?: string }>> {
  const filters = { label: [`${LABEL_PREFIX}namespace=${namespace}`, OBJECT_LABEL] };
  const labelSets: Array<Record<string, string>> = [];
  for (const networks of [(await call(() => docker.listNetworks({ filters }))) as Array<{ Labels?: Record<string, string> }>]) labelSets.push(...networks.map((entry) => entry.Labels ?? {}));
  labelSets.push(...((await call(() => docker.listConfigs({ filters }))) as Array<{ Spec?: { Labels?: Record<string, string> } }>).map((entry) => entry.Spec?.Labels ?? {}));
  for (const node of tasks.allDockers()) {
    const listed = (await call(() => node.listVolumes({ filters })).catch(() => ({}))) as { Volumes?: Array<{ Labels?: Record<string, string> }> };
    labelSets.push(...(listed.Volumes ?? []).map((entry) => entry.Labels ?? {}));
  }
  const orphaned = new Map<string, { demoId: string; instanceId?: string }>();
  for (const labels of labelSets) {
    const demoId = labels[`${LABEL_PREFIX}id`];
    const instanceId = labels[`${LABEL_PREFIX}instance`];
    if (demoId === undefined || (liveDemos.has(demoId) && (instanceId === undefined || liveInstances.has(instanceId)))) continue;
    orphaned.set(`${demoId}/${instanceId ?? ""}`, { demoId, ...(instanceId !== undefined ? { instanceId } : {}) });
  }
  return [...orphaned.values()];
}
