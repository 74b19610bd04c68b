// Where and how the Docker runtime places demos: their network, their host ports, their hardening, its starts at once.
import type { PortRange } from "./ports.js";
import type { RegistryCredentials } from "./pull.js";

/**
 * Creates and starts at once unless told otherwise (DockerPlacement.starts). Measured here (`npm run bench --
 * --only=starts`): 2 at once started 2.0 a second, 4 and 8 no more (1.97, 1.93) while each took 2× and 4× as long;
 * 1 at a time started 1.56.
 */
export const DEFAULT_STARTS = 2;

export interface DockerPlacement {
  /** The bridge network demos join (created with inter-container traffic off). */
  network: string;
  /** Host ports for demos, bound on 127.0.0.1 only. */
  ports: PortRange;
  /** false: Docker's defaults instead of the hardened options (the benchmark's baseline for their cost; never for production). */
  hardened?: boolean;
  /** This process owns the namespace (the controller): what a crash left of environments is removed at the first listing. */
  sweepLeftovers?: boolean;
  /**
   * Container creates and starts Docker runs at once; more wait in line, first come first served (a visitor's before
   * a container made ahead). Docker serialises much of a start (networking, iptables): past a few at once, each one
   * only takes longer (`npm run bench -- --only=starts` measures 1, 2, 4 and 8 here).
   */
  starts?: number;
  /** Credentials of registries images are pulled from, by registry host (the config's `registries`, then `docker login`'s). */
  registries?: (registry: string) => RegistryCredentials | undefined;
}

