// Saves a container as an image (Docker's commit, processes paused for the copy): how a snapshot state source is taken.
import type Docker from "dockerode";
import { RestoreFailure } from "../core/state/state-sources.js";

export async function commitContainer(docker: Docker, containerId: string, image: string, labels: Record<string, string>): Promise<void> {
  // A commit holds the container's own files, never its volumes: an app that keeps its data in one would get a
  // snapshot without it, so it is refused with the reason instead.
  const mounts = ((await docker.getContainer(containerId).inspect()).Mounts ?? []).filter((mount) => mount.Type === "volume" || mount.Type === "bind");
  if (mounts.length > 0) throw new RestoreFailure(`its app keeps data in Docker volumes (${mounts.map((mount) => mount.Destination).join(", ")}), which a snapshot cannot hold; use a dump source`);
  const colon = image.lastIndexOf(":");
  const [repo, tag] = colon > image.lastIndexOf("/") ? [image.slice(0, colon), image.slice(colon + 1)] : [image, "latest"];
  // Paused, a database's files are as after a power cut at that instant, which its recovery is built for.
  await docker.getContainer(containerId).commit({
    repo,
    tag,
    pause: true,
    changes: Object.entries(labels).map(([key, value]) => `LABEL ${JSON.stringify(key)}=${JSON.stringify(value)}`),
  });
}
