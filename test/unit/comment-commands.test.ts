// Comment commands read from GitHub's and GitLab's comment payloads (recorded and documented examples): what each
// says, what is refused in words, and which comments are not commands at all.
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/core/forges/commands.js";
import { interpretGithubEvent } from "../../src/core/forges/github-events.js";
import { interpretGitlabEvent } from "../../src/core/forges/gitlab-events.js";
import { commentPayload, EXAMPLE_REPO } from "../support/github.js";
import { EXAMPLE_PROJECT, NOTE_EXAMPLE, notePayload } from "../support/gitlab.js";

describe("comment commands", () => {
  it("reads each command and refuses the rest saying what is allowed", () => {
    expect(parseCommand("/demo-launcher redeploy")).toEqual({ command: { verb: "redeploy" } });
    expect(parseCommand("Looks good!\n  /demo-launcher extend 3d  \nthanks")).toEqual({ command: { verb: "extend", ms: 3 * 86_400_000, written: "3d" } });
    expect(parseCommand("/demo-launcher share 12h")).toEqual({ command: { verb: "share", ms: 12 * 3_600_000, written: "12h" } });
    for (const verb of ["stop", "wake", "reset", "delete"]) expect(parseCommand(`/demo-launcher ${verb}`)).toEqual({ command: { verb } });
    expect(parseCommand("no command here")).toBeUndefined();
    expect(parseCommand("see /demo-launcher docs")).toBeUndefined();
    expect(parseCommand("/demo-launcherextend 3d")).toBeUndefined();
    expect(parseCommand("/demo-launcher")).toEqual({ problem: "no command after /demo-launcher; one of: redeploy, stop, wake, reset, extend <duration>, delete, share <duration>" });
    expect(parseCommand("/demo-launcher destroy")).toEqual({ problem: 'unknown command "destroy"; one of: redeploy, stop, wake, reset, extend <duration>, delete, share <duration>' });
    expect(parseCommand("/demo-launcher extend")).toEqual({ problem: "extend needs a duration from 1m to 30d such as 3d" });
    expect(parseCommand("/demo-launcher extend 90d")).toEqual({ problem: 'extend "90d" is not a duration from 1m to 30d such as 3d' });
    expect(parseCommand("/demo-launcher extend 3 days")).toEqual({ problem: 'extend "3 days" is not a duration from 1m to 30d such as 3d' });
    expect(parseCommand("/demo-launcher share 10s")).toMatchObject({ problem: expect.stringMatching(/^share "10s" is not a duration from 1m to 30d/) });
    expect(parseCommand("/demo-launcher stop now")).toEqual({ problem: 'stop takes nothing after it (got "now")' });
  });

  it("takes GitHub's new comments on pull requests, never edits, issues or bots", () => {
    const configured = (repo: string) => repo === EXAMPLE_REPO;
    expect(interpretGithubEvent("issue_comment", commentPayload(4, "/demo-launcher stop", { id: 77, user: "ann", author: "ann" }), configured)).toEqual({ kind: "command", repo: EXAMPLE_REPO, pr: 4, comment: 77, user: "ann", byAuthor: true, command: { verb: "stop" } });
    expect(interpretGithubEvent("issue_comment", commentPayload(4, "/demo-launcher fly", { user: "bob" }), configured)).toMatchObject({ kind: "command", byAuthor: false, problem: expect.stringContaining("unknown command") });
    expect(interpretGithubEvent("issue_comment", commentPayload(4, "nice work"), configured)).toMatchObject({ kind: "ignore", reason: "the comment holds no command" });
    expect(interpretGithubEvent("issue_comment", commentPayload(4, "/demo-launcher stop", { action: "edited" }), configured)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("new comments only") });
    const onIssue = commentPayload(4, "/demo-launcher stop");
    delete onIssue.issue.pull_request;
    expect(interpretGithubEvent("issue_comment", onIssue, configured)).toMatchObject({ kind: "ignore", reason: "a comment on an issue, not on a pull request" });
    const byBot = commentPayload(4, "/demo-launcher stop");
    byBot.comment.user.type = "Bot";
    expect(interpretGithubEvent("issue_comment", byBot, configured)).toMatchObject({ kind: "ignore", reason: "a bot's comment" });
  });

  it("takes GitLab's new notes on merge requests (the documented example), never edits, system notes or other notes", () => {
    const configured = (path: string) => path === EXAMPLE_PROJECT;
    expect(interpretGitlabEvent("Note Hook", NOTE_EXAMPLE, configured)).toMatchObject({ kind: "ignore", reason: "the comment holds no command", pr: 1 });
    expect(interpretGitlabEvent("Note Hook", notePayload(3, "/demo-launcher extend 2d", { id: 55, userId: 8, username: "dev", authorId: 8 }), configured)).toEqual({ kind: "command", repo: EXAMPLE_PROJECT, pr: 3, comment: 55, user: "dev", userId: 8, byAuthor: true, command: { verb: "extend", ms: 2 * 86_400_000, written: "2d" } });
    expect(interpretGitlabEvent("Note Hook", notePayload(3, "/demo-launcher reset", { action: "update" }), configured)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("new comments only") });
    expect(interpretGitlabEvent("Note Hook", { ...notePayload(3, "/demo-launcher reset"), object_attributes: { ...notePayload(3, "/demo-launcher reset").object_attributes, system: true } }, configured)).toMatchObject({ kind: "ignore", reason: "a system note" });
    expect(interpretGitlabEvent("Note Hook", { ...notePayload(3, "/demo-launcher reset"), object_attributes: { ...notePayload(3, "x").object_attributes, noteable_type: "Issue" } }, configured)).toMatchObject({ kind: "ignore", reason: "a comment on something else than a merge request" });
    const older = notePayload(3, "/demo-launcher wake");
    delete older.object_attributes.action;
    expect(interpretGitlabEvent("Note Hook", older, configured)).toMatchObject({ kind: "command", command: { verb: "wake" } });
  });
});
