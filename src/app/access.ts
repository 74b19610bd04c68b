// Who may open which demo, put together from the config: each demo's policy, the access desk and its state file.
import type { Config } from "../config/load.js";
import { AccessDesk, sharePath } from "../core/access/access-desk.js";
import { policyFor, type AccessPolicy } from "../core/access/policy.js";
import type { Demo } from "../core/model.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";
import { AccessFile } from "../state/access-file.js";
import { publicOrigin } from "../http/context.js";

/** Forgotten links and passwords of ended demos are dropped this often. */
const SWEEP_MS = 60_000;

export function accessPolicyOf(config: Config): (demo: Demo) => AccessPolicy {
  return (demo) => policyFor(demo.kind, demo.kind === "preview" ? config.previews[demo.app] : config.apps[demo.app], Object.hasOwn(config.shared, demo.id) ? config.shared[demo.id]!.access : undefined);
}

/** Whether any demo of this config can be gated (the routes then carry gates, the controller its access pages). */
export function anyGated(config: Config): boolean {
  return [...Object.values(config.apps), ...Object.values(config.previews), ...Object.values(config.shared)].some((entry) => entry.access !== undefined && entry.access.mode !== "public");
}

/**
 * The desk reads the engine lazily (`engine()`): the engine is made after it, since its routes carry the desk's gates.
 * Its state file is loaded now; a sweep drops what ended demos left.
 */
export async function startAccessDesk(config: Config, engine: () => { get(id: string): Demo | undefined; publishRoutesAndWait(): Promise<boolean> } | undefined, scheduler: Scheduler, logger: Logger): Promise<{ desk: AccessDesk; close(): void }> {
  const desk = new AccessDesk({
    store: new AccessFile(config.stateDir, logger),
    scheduler,
    logger,
    policyOf: accessPolicyOf(config),
    demo: (id) => engine()?.get(id),
    admins: { emails: config.admin.oidc?.allowedEmails ?? [], groups: config.admin.oidc?.allowedGroups ?? [] },
    republish: async () => {
      if (engine() && !(await engine()!.publishRoutesAndWait())) logger.warn("access: nginx did not confirm the routes after an access change; cached answers may last a few seconds more");
    },
  });
  await desk.start();
  const sweeping: Cancel = scheduler.every(SWEEP_MS, () => desk.sweep().catch((error: unknown) => logger.warn(`access: sweeping the access file failed: ${String(error)}`)));
  return {
    desk,
    close() {
      sweeping();
      desk.close();
    },
  };
}

/** What a comment's share links are noted as: the next push's comment revokes the one before. */
const COMMENT_NOTE = "the pull request's comment";

/**
 * The share link a pull or merge request's comment carries, where its repository or project says so (shareInComment) and its preview
 * is gated: a new one per comment, the previous comment's revoked.
 */
export async function commentShareLink(config: Config, desk: AccessDesk, engine: { get(id: string): Demo | undefined }, source: string, label: string): Promise<string | undefined> {
  const ttl = [...Object.values(config.githubRepos), ...Object.values(config.gitlabProjects)].find((entry) => entry.source === source)?.shareInComment;
  const demo = engine.get(label);
  if (ttl === undefined || !demo || desk.policyOf(demo).mode === "public") return undefined;
  for (const old of desk.shares(demo.id).filter((share) => share.note === COMMENT_NOTE)) await desk.revokeShare(demo.id, old.id, "was replaced by the comment's new link");
  return shareLinkFor(config, desk, demo, ttl, COMMENT_NOTE, "pull request comment");
}

/** The share link a comment's `/demo-launcher share 2d` makes: for a gated preview only (a public one needs none). */
export async function commandShareLink(config: Config, desk: AccessDesk, demo: Demo, ttlMs: number, by: string): Promise<string | undefined> {
  return desk.policyOf(demo).mode === "public" ? undefined : shareLinkFor(config, desk, demo, ttlMs, "a comment's share command", by);
}

async function shareLinkFor(config: Config, desk: AccessDesk, demo: Demo, ttlMs: number, note: string, by: string): Promise<string> {
  const { token } = await desk.createShare(demo, ttlMs, note, by);
  return `${publicOrigin(config, demo.host)}${sharePath(token)}`;
}
