// What comment commands do to a pull or merge request's preview: build its commit again, put it to sleep, wake it,
// start it fresh (its data back to what the image holds), give it more time, remove it, or make a share link.
import type { PreviewCommand } from "../core/forges/commands.js";
import type { PreviewService } from "../core/services.js";
import type { Scheduler } from "../core/scheduler.js";
import type { BuildRunner } from "../builds/build-runner.js";
import { removePreview } from "../builds/preview-removal.js";
import type { PreviewCommandPort } from "../forges/comment-commands.js";
import type { Demo } from "../core/model.js";
import { DomainError } from "../core/errors.js";
import { problemFromDomain } from "../http/problem.js";

/** A share link for a gated preview, or undefined when the preview is public (its address is all anyone needs). */
export type CommandShareLink = (demo: Demo, ttlMs: number, by: string) => Promise<string | undefined>;

export function previewCommandPort(engine: PreviewService, builds: BuildRunner, scheduler: Scheduler, shareLink?: CommandShareLink): PreviewCommandPort {
  const live = (label: string): Demo => {
    const demo = engine.get(label);
    if (!demo) throw new Error("there is no preview of it running (a push or /demo-launcher redeploy builds one)");
    return demo;
  };
  return {
    async run(label, source, command) {
      try {
        return await carryOut(label, source, command);
      } catch (error) {
        // The engine's refusals in the words the API gives them, not their codes.
        throw error instanceof DomainError ? new Error(problemFromDomain(error).message) : error;
      }
    },
  };

  async function carryOut(label: string, source: string, command: PreviewCommand): Promise<string> {
    switch (command.verb) {
      case "redeploy": {
        const commit = engine.get(label)?.preview?.commit ?? builds.latestFor(label)?.commit;
        if (!commit) throw new Error("no commit of it was built here yet");
        const last = builds.latestFor(label);
        // A newer version than every earlier request: the same commit is built again, not answered with the last build.
        const { build } = await builds.request(source, { commit }, { host: label, version: scheduler.now(), untrusted: last?.untrusted === true, ...(last?.link ? { link: last.link } : {}) });
        return `building ${commit.slice(0, 12)} again (build ${build.id}); the preview is replaced once it is built`;
      }
      case "stop": {
        const demo = live(label);
        if (!(await engine.previews.sleep(label))) throw new Error(`it is ${demo.status}, not ready`);
        return "stopped; its data is kept, and the next visit wakes it";
      }
      case "wake":
        if (live(label).status !== "asleep") return "it is awake already";
        engine.previews.wake(label);
        return "waking up; it answers in a few seconds";
      case "reset":
        live(label);
        engine.previews.startFresh(label);
        return "starting fresh: new containers and volumes, its data back to its seed (or to what the build holds)";
      case "extend": {
        const demo = await engine.extend(live(label).id, command.ms);
        return `it now ends at ${new Date(demo.expiresAt).toISOString().replace(/\.\d+Z$/, "Z")}, or later if it is used after that`;
      }
      case "delete": {
        const removal = await removePreview(engine, builds, label, "it was deleted by a comment's command");
        if (!removal.removed && removal.cancelledBuilds.length === 0) throw new Error("there is no preview of it running");
        return "removed with its data; a push or /demo-launcher redeploy builds it again";
      }
      case "share": {
        const link = await shareLink?.(live(label), command.ms, "comment command");
        if (!link) throw new Error("the preview is public: its address is all anyone needs");
        return `this link opens it without signing in until it ends (${command.written}): ${link}`;
      }
    }
  }
}
