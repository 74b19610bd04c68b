// Wires the forges into the previews: for GitHub and GitLab, each where configured, its API client, outbox and
// reporter (statuses and the one comment), its webhook handler and its reconciler, around one delivery log.
import type { Config, ForgeProject } from "../config/load.js";
import type { Forge } from "../core/forges/forge-intent.js";
import type { EventSink } from "../core/events.js";
import type { Build } from "../core/builds/build-queue.js";
import { hostFor } from "../core/routing/naming.js";
import type { Scheduler } from "../core/scheduler.js";
import type { BuildRunner } from "../builds/build-runner.js";
import type { PreviewRemovalEngine } from "../builds/preview-removal.js";
import type { Demo } from "../core/model.js";
import { DeliveryLog } from "../forges/deliveries.js";
import type { ForgeApi } from "../forges/forge-api.js";
import { ForgeHooks } from "../forges/hooks.js";
import { CommentCommands, type PreviewCommandPort } from "../forges/comment-commands.js";
import { Outbox } from "../forges/outbox.js";
import { PullRequestReconciler } from "../forges/reconciler.js";
import { PullRequestReporter } from "../forges/reporter.js";
import { GitlabApi } from "../forges/gitlab/api.js";
import { gitlabTokenCheck } from "../forges/gitlab/token.js";
import { publicOrigin } from "../http/context.js";
import type { Logger } from "../logger.js";

export interface ForgeServices {
  hooks: Partial<Record<Forge, ForgeHooks>>;
  deliveries: DeliveryLog;
  /** True while a delivery is being acted on. */
  readonly busy: boolean;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** What each configured forge is: its secrets' check, its projects, its API (when credentials are given). */
interface ForgeSetting {
  forge: Forge;
  verify: (raw: Buffer, credential: string | undefined) => Promise<boolean>;
  repos: Record<string, ForgeProject>;
  api?: ForgeApi;
  reconcileMs: number;
}

async function configuredForges(config: Config, logger: Logger, env: NodeJS.ProcessEnv): Promise<ForgeSetting[]> {
  const forges: ForgeSetting[] = [];
  if (config.github) {
    // Octokit loads only where GitHub is configured (RSS at rest).
    const [{ GithubApi }, { githubClient }, { githubSignatureCheck }] = await Promise.all([import("../forges/github/api.js"), import("../forges/github/client.js"), import("../forges/github/signature.js")]);
    const octokit = await githubClient(config.github, env);
    if (!octokit) logger.warn("github: no token and no app configured: pull requests get previews but no statuses or comments");
    forges.push({ forge: "github", verify: githubSignatureCheck(config.github.webhookSecrets), repos: config.githubRepos, ...(octokit ? { api: new GithubApi(octokit) } : {}), reconcileMs: config.github.reconcile });
  }
  if (config.gitlab) {
    const token = env.DEMO_LAUNCHER_GITLAB_TOKEN ?? config.gitlab.token;
    if (!token) logger.warn("gitlab: no token configured: merge requests get previews but no statuses or notes");
    forges.push({ forge: "gitlab", verify: gitlabTokenCheck(config.gitlab.webhookSecrets), repos: config.gitlabProjects, ...(token ? { api: new GitlabApi(config.gitlab.apiUrl, token) } : {}), reconcileMs: config.gitlab.reconcile });
  }
  return forges;
}

export interface ForgeOptions {
  /** A gated preview's share link for its comment (see commentShareLink). */
  shareLink?: (source: string, label: string) => Promise<string | undefined>;
  /** What comment commands do to previews. */
  commands?: PreviewCommandPort;
  /** The screenshots part of a ready build's comment (see PreviewScreens). */
  screens?: (build: Build) => Promise<string | undefined>;
  /** Subscribes to the engine's events (a change's preview that ends is said so in its comment). */
  onEngineEvent?: (sink: EventSink) => void;
  env?: NodeJS.ProcessEnv;
}

/** Starts what the configured forges need; undefined when none is configured. */
export async function startForges(config: Config, builds: BuildRunner, engine: PreviewRemovalEngine & { list(): Demo[] }, logger: Logger, scheduler: Scheduler, options: ForgeOptions = {}): Promise<ForgeServices | undefined> {
  const { shareLink, env = process.env } = options;
  const settings = await configuredForges(config, logger, env);
  if (settings.length === 0) return undefined;
  const deliveries = new DeliveryLog(config.stateDir, () => scheduler.now(), logger);
  const unfinished = await deliveries.start();
  const hooks: Partial<Record<Forge, ForgeHooks>> = {};
  const reconcilers: PullRequestReconciler[] = [];
  const outboxes: Outbox[] = [];
  for (const { forge, verify, repos, api, reconcileMs } of settings) {
    let reporter: PullRequestReporter | undefined;
    if (api) {
      const outbox = new Outbox({ api, stateDir: config.stateDir, logger, scheduler });
      await outbox.start();
      outboxes.push(outbox);
      const repoBySource = new Map(Object.entries(repos).map(([repo, entry]) => [entry.source, repo]));
      const told = new PullRequestReporter({ forge, outbox, repoOf: (source) => repoBySource.get(source), urlOf: (label) => `${publicOrigin(config, hostFor(label, config.domain))}/`, onError: (message) => logger.warn(message), ...(shareLink ? { shareLink } : {}), ...(options.screens ? { screens: options.screens } : {}) });
      builds.onChange((build) => told.buildChanged(build));
      options.onEngineEvent?.((event) => {
        if (event.type === "ended" && event.kind === "preview") told.previewEnded(event.id, event.reason);
      });
      reporter = told;
    }
    const commands = options.commands ? new CommentCommands({ forge, repos, port: options.commands, deliveries, logger, ...(api ? { api } : {}), ...(reporter ? { reporter } : {}) }) : undefined;
    const handler = new ForgeHooks({ forge, verify, repos, runner: builds, engine, deliveries, logger, ...(api ? { api } : {}), ...(reporter ? { reporter } : {}), ...(commands ? { commands } : {}) });
    await handler.start(unfinished);
    hooks[forge] = handler;
    if (api) {
      const reconciler = new PullRequestReconciler({ api, repos, previews: () => engine.list().filter((demo) => demo.kind === "preview"), runner: builds, handle: (intent) => handler.handle(intent), everyMs: reconcileMs, logger, scheduler });
      reconciler.start();
      reconcilers.push(reconciler);
    }
  }
  const all = Object.values(hooks);
  return {
    hooks,
    deliveries,
    get busy() {
      return all.some((handler) => handler.busy);
    },
    async idle() {
      await Promise.all(all.map((handler) => handler.idle()));
    },
    // Reconcilers first (they hand the hooks intents), then what the hooks act on (it may queue a status), then the outboxes.
    async close() {
      await Promise.all(reconcilers.map((reconciler) => reconciler.close()));
      await Promise.all(all.map((handler) => handler.idle()));
      await Promise.all(outboxes.map((outbox) => outbox.close()));
    },
  };
}
