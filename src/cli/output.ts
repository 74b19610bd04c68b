// Where a command's words go: stdout for the CLI, a list for tests that run commands in-process.
export interface Output {
  /** One line (a newline is added). */
  line(text: string): void;
  /** Text or bytes as they come (a log being followed). */
  write(chunk: string | Uint8Array): void;
}

export const stdout: Output = {
  line: (text) => console.log(text),
  write: (chunk) => void process.stdout.write(chunk),
};

export const stderr: Output = {
  line: (text) => console.error(text),
  write: (chunk) => void process.stderr.write(chunk),
};

/** An output that keeps what it was given: `lines` (whole lines; written chunks are split at newlines). */
export function collectingOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    line: (text) => lines.push(...text.split("\n")),
    write: (chunk) => lines.push(...String(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")).split("\n").filter((text) => text.length > 0)),
  };
}
