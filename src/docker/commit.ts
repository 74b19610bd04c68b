// Saves a container as an image (Docker's commit, processes paused for the copy): how a snapshot state source is taken.
import type Docker from "dockerode";

export async function commitContainer(docker: Docker, containerId: string, image: string, labels: Record<string, string>): Promise<void> {
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
