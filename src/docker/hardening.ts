// A demo container's privileges and budgets as Docker options: capabilities, read-only root, tmpfs, ulimits, disk quota.
import type Docker from "dockerode";
import type { Hardening } from "../core/app-spec.js";

/** Kept when an app names none: the config's default list, repeated so a runtime used without the config is hardened too. */
export const FALLBACK_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"];
const DEFAULT_NOFILE = 4096;

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
    CapAdd: [...(hardening?.capabilities ?? FALLBACK_CAPABILITIES)],
    ReadonlyRootfs: hardening?.readOnly ?? false,
    ...(tmpfs.length ? { Tmpfs: Object.fromEntries(tmpfs.map(([where, bytes]) => [where, `rw,nosuid,nodev,size=${bytes},mode=1777`])) } : {}),
    Ulimits: ulimits,
    ...(quota && hardening?.disk ? { StorageOpt: { size: String(hardening.disk) } } : {}),
  };
}

/** Docker's answer when the storage driver cannot hold a container to a size (overlay2 off xfs-with-pquota, vfs, …). */
export const NO_QUOTA = /storage-?opt|quota|pquota|not supported.*size|size.*not supported/i;
