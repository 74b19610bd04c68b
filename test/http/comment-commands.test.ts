// Comment commands through the webhooks (fastify.inject) on both forges: who may run them (people who may push, the
// author where the project says so), each comment run once however often it is delivered, and every answer edited
// into the preview's one comment beside its preview part. The commands' effect on real previews: test/system.
import { sign } from "@octokit/webhooks-methods";
import { afterEach, describe, expect, it } from "vitest";
import type { PreviewCommand } from "../../src/core/forges/commands.js";
import type { Forge } from "../../src/core/forges/forge-intent.js";
import { ManualScheduler } from "../../src/core/scheduler.js";
import { CommentCommands } from "../../src/forges/comment-commands.js";
import { DeliveryLog } from "../../src/forges/deliveries.js";
import type { ForgeApi } from "../../src/forges/forge-api.js";
import { githubSignatureCheck } from "../../src/forges/github/signature.js";
import { gitlabTokenCheck } from "../../src/forges/gitlab/token.js";
import { ForgeHooks } from "../../src/forges/hooks.js";
import { COMMENT_MARKER, Outbox } from "../../src/forges/outbox.js";
import { PullRequestReporter } from "../../src/forges/reporter.js";
import { silentLogger } from "../../src/logger.js";
import { commentPayload, EXAMPLE_REPO } from "../support/github.js";
import { EXAMPLE_PROJECT, notePayload } from "../support/gitlab.js";
import { httpApp, type HttpApp } from "../support/http-app.js";

const SECRET = "a-webhook-secret-of-16";

/** A forge's API as far as commands go: who may push, and the one comment per change. */
function standInApi(forge: Forge, pushers: { names: string[]; ids: number[] }) {
  const comments = new Map<number, { change: string; body: string }>();
  let ids = 100;
  const api: ForgeApi = {
    forge,
    setStatus: async () => {},
    findComment: async (repo, change, marker) => [...comments].find(([, comment]) => comment.change === `${repo}#${change}` && comment.body.includes(marker))?.[0],
    createComment: async (repo, change, body) => {
      comments.set((ids += 1), { change: `${repo}#${change}`, body });
      return ids;
    },
    editComment: async (_repo, _change, id, body) => void (comments.get(id)!.body = body),
    openChanges: async () => [],
    canPush: async (_repo, user) => (forge === "gitlab" ? pushers.ids.includes(user.id ?? -1) : pushers.names.includes(user.name)),
  };
  return { api, comments };
}

describe.each(["github", "gitlab"] as const)("comment commands on %s", (forge) => {
  let app: HttpApp | undefined;
  let hooks: ForgeHooks;
  let outbox: Outbox;
  afterEach(async () => {
    await hooks?.idle();
    await outbox?.close();
    await app?.close();
    app = undefined;
  });

  async function withCommands(commands: "push" | "author") {
    const runs: Array<[string, string, PreviewCommand]> = [];
    const { api, comments } = standInApi(forge, { names: ["ann"], ids: [7] });
    const repo = forge === "github" ? EXAMPLE_REPO : EXAMPLE_PROJECT;
    const section = forge === "github" ? `github:\n  webhookSecrets: [${SECRET}]\n  repos:\n    ${repo}: { name: shop, repo: "file:///nowhere", port: 8080, commands: ${commands} }` : `gitlab:\n  webhookSecrets: [${SECRET}]\n  projects:\n    ${repo}: { name: shop, repo: "file:///nowhere", port: 8080, commands: ${commands} }`;
    const scheduler = new ManualScheduler(1_000_000);
    app = await httpApp(section, {
      deps: ({ engine, config }) => {
        const deliveries = new DeliveryLog(config.stateDir, () => scheduler.now(), silentLogger);
        outbox = new Outbox({ api, stateDir: config.stateDir, logger: silentLogger, scheduler });
        const reporter = new PullRequestReporter({ forge, outbox, repoOf: () => repo, urlOf: (label) => `http://${label}.demo.localhost/`, onError: () => {} });
        const port = {
          run: async (label: string, source: string, command: PreviewCommand) => {
            runs.push([label, source, command]);
            if (command.verb === "delete") throw new Error("there is no preview of it running");
            return `did ${command.verb}`;
          },
        };
        const projects = forge === "github" ? config.githubRepos : config.gitlabProjects;
        const verify = forge === "github" ? githubSignatureCheck([SECRET]) : gitlabTokenCheck([SECRET]);
        const commandDesk = new CommentCommands({ forge, repos: projects, port, deliveries, logger: silentLogger, api, reporter });
        hooks = new ForgeHooks({ forge, verify, repos: projects, runner: { queue: { all: () => [] } } as never, engine, deliveries, logger: silentLogger, api, reporter, commands: commandDesk });
        return { forges: { [forge]: hooks }, deliveries };
      },
    });
    await outbox.start();
    await hooks.start(await hooks.deliveries.start());
    // The preview's part of the comment is there first: every answer keeps it.
    await outbox.send({ kind: "comment", repo, pr: 4, body: "**Preview** of abc: http://shop-x-4.demo.localhost/" });
    let sent = 0;
    /** Comment `text` on change 4 as `user` (GitHub: a login; GitLab: an id and a name), as a new delivery. */
    const comment = async (text: string, user: { name: string; id: number }, options: { commentId?: number; author?: boolean } = {}) => {
      const id = `11111111-2222-4333-8444-${String((sent += 1)).padStart(12, "0")}`;
      const payload = forge === "github" ? commentPayload(4, text, { user: user.name, author: options.author ? user.name : "someone-else", ...(options.commentId ? { id: options.commentId } : {}) }) : notePayload(4, text, { userId: user.id, username: user.name, authorId: options.author ? user.id : 999, ...(options.commentId ? { id: options.commentId } : {}) });
      const body = JSON.stringify(payload);
      const headers = forge === "github" ? { "x-github-event": "issue_comment", "x-github-delivery": id, "x-hub-signature-256": await sign(SECRET, body) } : { "x-gitlab-event": "Note Hook", "idempotency-key": id, "x-gitlab-token": SECRET };
      const answer = await app!.viaNginx("10.0.0.9", { method: "POST", url: `/hooks/${forge}`, headers: { "content-type": "application/json", ...headers }, payload: body });
      await hooks.idle();
      await outbox.flushed();
      expect(answer.statusCode, answer.body).toBe(202);
      return hooks.deliveries.get(id)!;
    };
    const theComment = () => {
      expect(comments.size).toBe(1);
      return [...comments.values()][0]!.body;
    };
    return { runs, comment, theComment, label: `shop-${forge === "github" ? "pr" : "mr"}-4` };
  }

  it("runs a command once for someone who may push, answers in the one comment, and refuses others with the reason", async () => {
    const { runs, comment, theComment, label } = await withCommands("push");
    const ann = { name: "ann", id: 7 };
    const extended = await comment("/demo-launcher extend 3d", ann, { commentId: 501 });
    expect(extended).toMatchObject({ outcome: "done", comment: 501, reason: "did extend" });
    expect(runs).toEqual([[label, "shop", { verb: "extend", ms: 3 * 86_400_000, written: "3d" }]]);
    expect(theComment()).toBe(`${COMMENT_MARKER}\n**Preview** of abc: http://shop-x-4.demo.localhost/\n\n---\n**/demo-launcher extend 3d** (@ann): did extend`);
    // The same comment delivered again under a new delivery id: not run twice.
    expect(await comment("/demo-launcher extend 3d", ann, { commentId: 501 })).toMatchObject({ outcome: "ignored", reason: "the command of comment 501 was already carried out" });
    expect(runs).toHaveLength(1);

    const eve = { name: "eve", id: 9 };
    expect(await comment("/demo-launcher delete", eve)).toMatchObject({ outcome: "ignored", reason: `@eve may not: commands are taken from people who may push to ${forge === "github" ? EXAMPLE_REPO : EXAMPLE_PROJECT}` });
    expect(runs).toHaveLength(1);
    expect(theComment()).toContain("**/demo-launcher delete** (@eve): refused: @eve may not");
    // The author alone is not enough here (commands: push).
    expect(await comment("/demo-launcher stop", eve, { author: true })).toMatchObject({ outcome: "ignored" });

    expect(await comment("/demo-launcher fly", ann)).toMatchObject({ outcome: "ignored", reason: expect.stringContaining('unknown command "fly"') });
    expect(theComment()).toContain("**/demo-launcher** (@ann): not understood: unknown command \"fly\"");
    expect(await comment("/demo-launcher delete", ann)).toMatchObject({ outcome: "failed", reason: "there is no preview of it running" });
    expect(theComment()).toContain("**/demo-launcher delete** (@ann): could not be done: there is no preview of it running");
    expect(theComment()).toContain("**Preview** of abc");
    expect(await comment("thanks, looks good", ann)).toMatchObject({ outcome: "ignored", reason: "the comment holds no command" });
    expect(runs.map(([, , command]) => command.verb)).toEqual(["extend", "delete"]);
  });

  it("takes the change's author too where the project says commands: author", async () => {
    const { runs, comment } = await withCommands("author");
    const eve = { name: "eve", id: 9 };
    expect(await comment("/demo-launcher wake", eve, { author: true })).toMatchObject({ outcome: "done" });
    expect(await comment("/demo-launcher wake", eve)).toMatchObject({ outcome: "ignored", reason: expect.stringContaining("and the") });
    expect(runs).toHaveLength(1);
  });
});
