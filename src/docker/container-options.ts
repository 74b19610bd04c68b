// The create options of a single-container demo: bound to one loopback port, limited, hardened unless told not to.
import type Docker from "dockerode";
import type { InstanceSpec } from "../core/runtime.js";
import { LABEL_PREFIX } from "../core/model.js";
import { hardenedHostConfig } from "./hardening.js";

/** The host port this adapter bound, kept on the container so a restarted controller knows its endpoint. */
export const PORT_LABEL = `${LABEL_PREFIX}port`;

export function singleContainerOptions(spec: InstanceSpec, hostPort: number, network: string, hardened: boolean, quota: boolean): Docker.ContainerCreateOptions {
  const portKey = `${spec.containerPort}/tcp`;
  const options: Docker.ContainerCreateOptions = {
    name: `demo-launcher-${spec.namespace}-${spec.instanceId}`,
    Image: spec.image,
    Labels: { ...spec.labels, [PORT_LABEL]: String(hostPort) },
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    ExposedPorts: { [portKey]: {} },
    // Demos are disposable: a Docker restart or upgrade should not wait 10 s for each app that ignores SIGTERM.
    StopTimeout: 3,
    HostConfig: {
      PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] },
      NetworkMode: network,
      Memory: spec.memoryBytes,
      // Same as memory: no swap on top, so the limit is the limit.
      MemorySwap: spec.memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pids,
      SecurityOpt: ["no-new-privileges:true"],
      Privileged: false,
      ...(hardened ? hardenedHostConfig(spec.hardening, quota) : {}),
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
      RestartPolicy: { Name: "no" },
    },
  };
  return options;
}
