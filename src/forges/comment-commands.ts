// Comment commands on a change's preview (`/demo-launcher extend 3d`), the same for every forge: who may (people who
// may push, or the author too where the project says so), once per comment however often it is delivered, and an
// answer in the preview's one comment, never a new comment per command.
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { commandText, COMMAND_PREFIX, type PreviewCommand } from "../core/forges/commands.js";
import { FORGE_WORDS, type CommandIntent, type Forge } from "../core/forges/forge-intent.js";
import { pullRequestLabel } from "../core/previews/preview-names.js";
import type { ForgeProject } from "../config/load.js";
import type { DeliveryLog, DeliveryOutcome } from "./deliveries.js";
import type { ForgeApi } from "./forge-api.js";
import type { PullRequestReporter } from "./reporter.js";

/** What the commands do to a preview; answers what happened in a sentence, or throws saying why it could not. */
export interface PreviewCommandPort {
  run(label: string, source: string, command: PreviewCommand): Promise<string>;
}

export interface CommentCommandsOptions {
  forge: Forge;
  repos: Record<string, ForgeProject>;
  port: PreviewCommandPort;
  deliveries: DeliveryLog;
  logger: Logger;
  api?: ForgeApi;
  reporter?: PullRequestReporter;
}

export class CommentCommands {
  /** Comments being acted on now: a second delivery of one waits for nothing and is not run again. */
  private readonly acting = new Set<string>();

  constructor(private readonly options: CommentCommandsOptions) {}

  async handle(intent: CommandIntent): Promise<{ outcome: Exclude<DeliveryOutcome, "received">; reason: string }> {
    const { forge, repos, api, reporter, deliveries, port } = this.options;
    const project = repos[intent.repo]!;
    const key = `${forge} ${intent.repo} ${intent.comment}`;
    const done = deliveries.list().some((delivery) => (delivery.forge ?? "github") === forge && delivery.repo === intent.repo && delivery.comment === intent.comment && delivery.outcome !== "received");
    if (done || this.acting.has(key)) return { outcome: "ignored", reason: `the command of comment ${intent.comment} was already carried out` };
    if (project.commands === "off") return { outcome: "ignored", reason: `comment commands are off for ${intent.repo} (commands: off)` };
    this.acting.add(key);
    try {
      const words = FORGE_WORDS[forge];
      const answer = (text: string) => reporter?.answered(intent.repo, intent.pr, `**${"command" in intent ? `${COMMAND_PREFIX} ${commandText(intent.command)}` : COMMAND_PREFIX}** (@${intent.user}): ${text}`);
      const mayPush = await api?.canPush(intent.repo, { name: intent.user, ...(intent.userId !== undefined ? { id: intent.userId } : {}) });
      if (!mayPush && !(project.commands === "author" && intent.byAuthor)) {
        const who = project.commands === "author" ? `people who may push to ${intent.repo} and the ${words.change}'s author` : `people who may push to ${intent.repo}`;
        const reason = mayPush === undefined && !intent.byAuthor ? `${words.forge} could not be asked whether @${intent.user} may push; commands are taken from ${who}` : `@${intent.user} may not: commands are taken from ${who}`;
        answer(`refused: ${reason}.`);
        return { outcome: "ignored", reason };
      }
      if ("problem" in intent) {
        answer(`not understood: ${intent.problem}.`);
        return { outcome: "ignored", reason: intent.problem };
      }
      const label = pullRequestLabel(project.source, intent.pr, forge);
      try {
        const result = await port.run(label, project.source, intent.command);
        answer(result);
        this.options.logger.info(`${words.forge} ${intent.repo}${words.mark}${intent.pr}: @${intent.user} ran ${commandText(intent.command)}: ${result}`);
        return { outcome: "done", reason: result };
      } catch (error) {
        const why = describeError(error);
        answer(`could not be done: ${why}`);
        return { outcome: "failed", reason: why };
      }
    } finally {
      this.acting.delete(key);
    }
  }
}
