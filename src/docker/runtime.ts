// The ContainerRuntime on the Docker Engine API (dockerode): demos bound to 127.0.0.1, limited and isolated.
import Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { SetupError, describeError } from "../core/errors.js";
import { PortConflictError, type ContainerInspection, type ContainerRuntime, type ContainerSpec, type RuntimeContainer, type RuntimeState } from "../core/runtime.js";

const PORT_CONFLICT = /port is already allocated|address already in use/i;

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

export function connectDocker(): Docker {
  // DOCKER_HOST and the default socket are honoured by docker-modem.
  return new Docker();
}

export async function assertDockerReachable(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new SetupError(`Docker is not reachable (${describeError(error)})`, "start dockerd (`npm start` does) or give this user access to /var/run/docker.sock");
  }
}

export class DockerRuntime implements ContainerRuntime {
  private readonly readyNetworks = new Set<string>();
  /** Images seen recently: a launch need not ask Docker again (a removed image fails the create anyway). */
  private readonly knownImages = new Map<string, number>();

  constructor(private readonly docker: Docker) {}

  /** A dedicated bridge with inter-container traffic off, so one demo cannot reach another. */
  async ensureNetwork(name: string): Promise<void> {
    if (this.readyNetworks.has(name)) return;
    const existing = await this.docker.listNetworks({ filters: { name: [name] } });
    if (!existing.some((network) => network.Name === name)) {
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Options: { "com.docker.network.bridge.enable_icc": "false" },
          Labels: { [`${LABEL_PREFIX}network`]: "true" },
        });
      } catch (error) {
        // Another controller (or test) may have created it at the same moment.
        if (statusCode(error) !== 409) throw error;
      }
    }
    this.readyNetworks.add(name);
  }

  async createAndStart(spec: ContainerSpec): Promise<string> {
    await this.ensureNetwork(spec.network);
    const portKey = `${spec.containerPort}/tcp`;
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Labels: spec.labels,
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: String(spec.hostPort) }] },
        NetworkMode: spec.network,
        Memory: spec.memoryBytes,
        // Same as memory: no swap on top, so the limit is the limit.
        MemorySwap: spec.memoryBytes,
        NanoCpus: Math.round(spec.cpus * 1e9),
        PidsLimit: spec.pids,
        SecurityOpt: ["no-new-privileges:true"],
        Privileged: false,
        LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
        RestartPolicy: { Name: "no" },
      },
    });
    try {
      await container.start();
    } catch (error) {
      await this.remove(container.id);
      const message = describeError(error);
      if (PORT_CONFLICT.test(message)) throw new PortConflictError(spec.hostPort, message);
      throw error;
    }
    return container.id;
  }

  async list(namespace: string): Promise<RuntimeContainer[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`] } });
    return containers.map((info) => ({ containerId: info.Id, labels: info.Labels ?? {}, state: info.State as RuntimeState }));
  }

  async inspect(containerId: string): Promise<ContainerInspection | undefined> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      return { state: info.State.Status as RuntimeState, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (error) {
      // 404: already gone; 409: removal already in progress. Both end where we want to be.
      if (statusCode(error) === 404 || statusCode(error) === 409) return;
      throw error;
    }
  }

  async logTail(containerId: string, lines: number): Promise<string> {
    try {
      const buffer = (await this.docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return demultiplex(buffer).trim();
    } catch {
      return "";
    }
  }

  async imageExists(image: string): Promise<boolean> {
    if ((this.knownImages.get(image) ?? 0) > Date.now()) return true;
    try {
      await this.docker.getImage(image).inspect();
      this.knownImages.set(image, Date.now() + 60_000);
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }
}

/** Docker multiplexes stdout and stderr in 8-byte framed chunks when there is no TTY. */
function demultiplex(buffer: Buffer): string {
  if (!Buffer.isBuffer(buffer)) return String(buffer);
  const parts: string[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString("utf8"));
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString("utf8") : parts.join("");
}
