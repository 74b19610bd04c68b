// Creates containers by name: a disk quota where the storage driver allows one, a half-made leftover replaced.
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
import { statusCode } from "./engine-api.js";
import { NO_QUOTA } from "./hardening.js";

export class ContainerCreator {
  /**
   * Where the storage driver can hold a container to a size, Docker does (quota); elsewhere the first refusal is
   * remembered and the disk budget is watched instead (see DiskGuard). Unknown until the first create with a budget.
   */
  quota: boolean | undefined;

  constructor(private readonly docker: Docker, private readonly remove: (name: string) => Promise<void>) {}

  get diskMode(): "quota" | "watched" | "unknown" {
    return this.quota === undefined ? "unknown" : this.quota ? "quota" : "watched";
  }

  /** Creates a container by name; a half-made one a retry meets (Docker went away mid-launch) is replaced. */
  async createNamed(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.createWithQuotaFallback(options);
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
      await this.remove(options.name!);
      return this.createWithQuotaFallback(options);
    }
  }

  private async createWithQuotaFallback(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const asked = options.HostConfig?.StorageOpt !== undefined;
    try {
      const container = await this.docker.createContainer(options);
      if (asked) this.quota = true;
      return container;
    } catch (error) {
      if (!asked || !NO_QUOTA.test(describeError(error))) throw error;
      this.quota = false;
      const { StorageOpt: _refused, ...hostConfig } = options.HostConfig!;
      return this.docker.createContainer({ ...options, HostConfig: hostConfig });
    }
  }
}
