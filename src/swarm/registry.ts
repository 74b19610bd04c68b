// Images every node can pull: the manager's images pushed once to the swarm's registry, and snapshots pushed from their node.
import type Docker from "dockerode";
import { describeError } from "../core/errors.js";
import { call, statusCode } from "../docker/runtime.js";

export class RegistryImages {
  private readonly pushed = new Map<string, Promise<string>>();

  constructor(private readonly docker: Docker, private readonly registry: string | undefined) {}

  /** A snapshot saved on some node: pushed from there, so the next demo from it can start on any node. */
  async pushSaved(docker: Docker, image: string): Promise<void> {
    if (this.registry) await this.pushFrom(docker, image, `${this.registry}/${image}`);
    this.pushed.delete(image);
  }

  /** The name every node can pull: the manager's image pushed to the registry once (per controller run). */
  imageFor(image: string): Promise<string> {
    const registry = this.registry;
    if (!registry || image.startsWith(`${registry}/`)) return Promise.resolve(image);
    let pushing = this.pushed.get(image);
    if (!pushing) {
      pushing = this.push(image, `${registry}/${image}`);
      this.pushed.set(image, pushing);
      pushing.catch(() => this.pushed.delete(image));
    }
    return pushing;
  }

  private async push(image: string, target: string): Promise<string> {
    try {
      await call(() => this.docker.getImage(image).inspect());
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
      if (await this.inRegistry(image)) return target;
      throw new Error(`the image ${image} is neither on the manager nor in the registry ${this.registry}`);
    }
    await this.pushFrom(this.docker, image, target);
    return target;
  }

  private async pushFrom(docker: Docker, image: string, target: string): Promise<void> {
    const [repo, tag] = splitReference(target);
    await call(() => docker.getImage(image).tag({ repo, tag }));
    // The Engine API wants an X-Registry-Auth header even for a registry without authentication.
    const stream = await call(() => docker.getImage(target).push({ authconfig: { serveraddress: this.registry } } as object));
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (failed: Error | null, output: Array<{ error?: string }>) => {
        const problem = failed?.message ?? output.find((event) => event.error)?.error;
        return problem ? reject(new Error(`pushing ${image} to ${this.registry} failed: ${problem}`)) : resolve();
      }),
    );
  }

  async inRegistry(image: string): Promise<boolean> {
    if (!this.registry) return false;
    const [name, tag] = splitReference(image);
    const answer = await fetch(`http://${this.registry}/v2/${name}/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json" } }).catch((error: unknown) => {
      throw new Error(`the registry ${this.registry} did not answer: ${describeError(error)}`);
    });
    return answer.status === 200;
  }
}

/** name:tag → [name, tag]; a colon before the last slash is a registry's port, not a tag. */
export function splitReference(reference: string): [string, string] {
  const colon = reference.lastIndexOf(":");
  return colon > reference.lastIndexOf("/") ? [reference.slice(0, colon), reference.slice(colon + 1)] : [reference, "latest"];
}
