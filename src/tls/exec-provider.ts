// DNS-01 records through a command the operator gives (any DNS with an API or a CLI): `<command> present|cleanup <name> <value>`.
import { execa } from "execa";
import type { DnsProvider } from "../core/tls/dns-challenge.js";

export class ExecProvider implements DnsProvider {
  /** `command`: the program and its first arguments; the words of lego's exec provider follow them. */
  constructor(private readonly command: readonly string[], private readonly timeoutMs = 120_000) {}

  present(name: string, value: string): Promise<void> {
    return this.run("present", name, value);
  }

  cleanup(name: string, value: string): Promise<void> {
    return this.run("cleanup", name, value);
  }

  /** The name and value are arguments, never shell text; a failure says what the command printed last. */
  private async run(action: string, name: string, value: string): Promise<void> {
    const [program, ...args] = this.command;
    const result = await execa(program!, [...args, action, `${name}.`, value], { reject: false, all: true, timeout: this.timeoutMs, stdin: "ignore" });
    if (result.exitCode !== 0 || result.timedOut) throw new Error(`the DNS command ${program} ${action} failed${result.timedOut ? " (timed out)" : ` (exit ${result.exitCode})`}: ${String(result.all ?? "").trim().split("\n").slice(-3).join(" ") || "no output"}`);
  }
}
