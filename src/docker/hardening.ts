// A demo container's privileges and budgets as Docker options: capabilities, read-only root, tmpfs, ulimits, disk quota.
import type Docker from "dockerode";
import { DEFAULT_CAPABILITIES, DEFAULT_NOFILE, type Hardening } from "../core/app-spec.js";

/**
 * Every capability dropped but the listed ones; no core dumps (a crashing app would write its memory to disk);
 * no single file larger than the disk budget, which holds even where Docker cannot set a quota.
 */
export function hardenedHostConfig(hardening: Hardening | undefined, quota: boolean): Partial<Docker.HostConfig> {
  const nofile = hardening?.nofile ?? DEFAULT_NOFILE;
  const ulimits: { Name: string; Soft: number; Hard: number }[] = [
    { Name: "nofile", Soft: nofile, Hard: nofile },
    { Name: "core", Soft: 0, Hard: 0 },
  ];
  if (hardening?.disk) ulimits.push({ Name: "fsize", Soft: hardening.disk, Hard: hardening.disk });
  const tmpfs = Object.entries(hardening?.tmpfs ?? {});
  // A read-only root with nowhere to write breaks most apps at start: /tmp is given unless the app names its paths.
  if (hardening?.readOnly && tmpfs.length === 0) tmpfs.push(["/tmp", 64 * 1024 ** 2]);
  return {
    CapDrop: ["ALL"],
    CapAdd: [...(hardening?.capabilities ?? DEFAULT_CAPABILITIES)],
    ReadonlyRootfs: hardening?.readOnly ?? false,
    ...(tmpfs.length ? { Tmpfs: Object.fromEntries(tmpfs.map(([where, bytes]) => [where, `rw,nosuid,nodev,size=${bytes},mode=1777`])) } : {}),
    Ulimits: ulimits,
    ...(quota && hardening?.disk ? { StorageOpt: { size: String(hardening.disk) } } : {}),
  };
}

/** Docker's answer when the storage driver cannot hold a container to a size (overlay2 off xfs-with-pquota, vfs, …). */
export const NO_QUOTA = /storage-?opt|quota|pquota|not supported.*size|size.*not supported/i;

/** The same privileges and budgets for a Swarm service's containers (API 1.41: capabilities and ulimits on services). */
export function hardenedSwarmContainerSpec(hardening: Hardening | undefined): Record<string, unknown> {
  const host = hardenedHostConfig(hardening, false);
  const tmpfs = Object.entries(host.Tmpfs ?? {}).map(([target, options]) => ({ Type: "tmpfs", Target: target, TmpfsOptions: { SizeBytes: Number(/size=(\d+)/.exec(options)?.[1]), Mode: 0o1777 } }));
  return {
    // Swarm hands these to the daemon with the CAP_ prefix, as `docker service create --cap-add` does.
    CapabilityDrop: ["ALL"],
    CapabilityAdd: (host.CapAdd ?? []).map((name: string) => `CAP_${name}`),
    ReadOnly: host.ReadonlyRootfs ?? false,
    Ulimits: host.Ulimits,
    ...(tmpfs.length ? { Mounts: tmpfs } : {}),
  };
}
