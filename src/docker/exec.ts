// Runs one command inside a running container (Docker's exec API) and collects its exit code and the end of its output.
import type Docker from "dockerode";
import { PassThrough } from "node:stream";
import type { ExecResult, ExecSpec } from "../core/runtime.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** Enough of a tool's output to say why it failed; a dump's restore can print megabytes of notices. */
const OUTPUT_LIMIT = 64 * 1024;

export async function execInContainer(docker: Docker, containerId: string, spec: ExecSpec): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: spec.argv,
    AttachStdout: true,
    AttachStderr: true,
    // Passwords travel in the environment, never in the command line (which `ps` in the container shows).
    Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(spec.user ? { User: spec.user } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & { destroy?: () => void };
  let output = "";
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  });
  docker.modem.demuxStream(stream, sink, sink);
  let cancel = () => {};
  const finished = await new Promise<boolean>((resolve) => {
    stream.on("end", () => resolve(true));
    stream.on("close", () => resolve(true));
    stream.on("error", () => resolve(true));
    cancel = systemScheduler.after(spec.timeoutMs, () => resolve(false), { keepAlive: true });
  });
  cancel();
  if (!finished) {
    stream.destroy?.();
    // Docker cannot kill an exec'd process; the restore's own steps are atomic, so a late one changes nothing half-way.
    return { exitCode: -1, output: `${output.slice(-OUTPUT_LIMIT)}\n(no answer within ${Math.round(spec.timeoutMs / 1000)} s)`.trim(), timedOut: true };
  }
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output: output.slice(-OUTPUT_LIMIT) };
}

/** Docker multiplexes stdout and stderr in 8-byte framed chunks when there is no TTY. */
export function demultiplex(buffer: Buffer): string {
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
