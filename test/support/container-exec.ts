// Runs a command in a container the way a person would with `docker exec` (tests inspect databases this way).
import { PassThrough } from "node:stream";
import type Docker from "dockerode";

export async function execIn(docker: Docker, containerId: string, argv: string[], user?: string): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => chunks.push(chunk));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise((resolve) => stream.on("end", resolve));
  const { ExitCode } = await exec.inspect();
  const output = Buffer.concat(chunks).toString("utf8");
  if (ExitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${output}`);
  return output;
}

/** The running container of a demo (its first, for a demo of one instance). */
export async function containerOf(docker: Docker, demoId: string): Promise<string> {
  const [info] = await docker.listContainers({ filters: { label: [`demo-launcher.id=${demoId}`] } });
  if (!info) throw new Error(`no container for demo ${demoId}`);
  return info.Id;
}

/** The notes app's rows and sequence, as text: equal text, equal state. */
export function notesRows(docker: Docker, containerId: string): Promise<string> {
  return execIn(docker, containerId, ["psql", "-X", "-At", "-U", "notes", "-d", "notes", "-c", "SELECT * FROM notes ORDER BY id", "-c", "SELECT last_value FROM notes_id_seq"], "postgres");
}
