// Runs operator-configured command lines (nginx -t, nginx -s reload) without a shell.
import { execa, parseCommandString } from "execa";

export interface CommandResult {
  ok: boolean;
  output: string;
}

export type CommandRunner = (commandLine: string) => Promise<CommandResult>;

export const runCommandLine: CommandRunner = async (commandLine) => {
  const [file, ...args] = parseCommandString(commandLine);
  if (!file) return { ok: false, output: "empty command" };
  // A process group of its own: a Ctrl-C in the terminal (sent to the whole foreground group) must not kill a
  // reload half-way while the launcher is still removing demos and publishing their routes.
  const result = await execa(file, args, { reject: false, all: true, timeout: 30_000, stdin: "ignore", detached: true });
  const output = (result.all ?? "").trim() || (result.failed ? (result.shortMessage ?? "") : "");
  return { ok: !result.failed, output };
};
