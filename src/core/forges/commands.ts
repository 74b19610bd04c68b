// Comment commands on a pull or merge request (`/demo-launcher extend 3d`), read from a comment's text; pure. A
// comment without the prefix is no command; one with it but wrong says what is allowed.
import { SHARE_TTL } from "../access/access-desk.js";
import { parseDuration } from "../duration.js";

export const COMMAND_PREFIX = "/demo-launcher";
export const COMMAND_HELP = "redeploy, stop, wake, reset, extend <duration>, delete, share <duration>";

/** The most `extend` adds at once; a `share` link's bounds are the access desk's. */
const EXTEND = { minMs: 60_000, maxMs: 30 * 86_400_000, help: "a duration from 1m to 30d such as 3d" };

export type PreviewCommand = { verb: "redeploy" | "stop" | "wake" | "reset" | "delete" } | { verb: "extend" | "share"; ms: number; written: string };

const PLAIN = ["redeploy", "stop", "wake", "reset", "delete"] as const;

/** The command of a comment (its first line that starts with the prefix), a problem in words, or none. */
export function parseCommand(body: string): { command: PreviewCommand } | { problem: string } | undefined {
  const line = body.split(/\r?\n/).map((text) => text.trim()).find((text) => text === COMMAND_PREFIX || text.startsWith(`${COMMAND_PREFIX} `));
  if (line === undefined) return undefined;
  const [verb, argument, ...rest] = line.slice(COMMAND_PREFIX.length).trim().split(/\s+/).filter(Boolean);
  const quoted = (text: string) => JSON.stringify(text.slice(0, 40));
  if (!verb) return { problem: `no command after ${COMMAND_PREFIX}; one of: ${COMMAND_HELP}` };
  if ((PLAIN as readonly string[]).includes(verb)) {
    return argument === undefined ? { command: { verb: verb as (typeof PLAIN)[number] } } : { problem: `${verb} takes nothing after it (got ${quoted(argument)})` };
  }
  if (verb === "extend" || verb === "share") {
    const bounds = verb === "extend" ? EXTEND : SHARE_TTL;
    if (argument === undefined) return { problem: `${verb} needs ${bounds.help}` };
    const ms = parseDuration(argument);
    if (ms === undefined || ms < bounds.minMs || ms > bounds.maxMs || rest.length > 0) return { problem: `${verb} ${quoted([argument, ...rest].join(" "))} is not ${bounds.help}` };
    return { command: { verb, ms, written: argument } };
  }
  return { problem: `unknown command ${quoted(verb)}; one of: ${COMMAND_HELP}` };
}

/** A command as written, for the answer (`extend 3d`). */
export function commandText(command: PreviewCommand): string {
  return "ms" in command ? `${command.verb} ${command.written}` : command.verb;
}
