// What the console shows, as one JSON document: demos of every kind, the line, pools, builds, previews, shared demos, deliveries, health.
import type { TlsReport } from "../../tls/tls-status.js";
import { tlsCheckOf } from "../../cli/checks/tls.js";
import { servedLabel } from "../../core/previews/preview-names.js";
import { hostFor } from "../../core/routing/naming.js";
import { publicOrigin, type HttpContext } from "../context.js";
import { buildView } from "../routes/builds.js";
import { sharedView } from "../routes/shared.js";

/** Enough builds and deliveries for a glance; the API lists them all. */
const RECENT = 50;

export async function consoleSnapshot(ctx: HttpContext): Promise<Record<string, unknown>> {
  const { config, engine } = ctx;
  const all = engine.list();
  const builds = (ctx.builds?.queue.all() ?? []).slice(-RECENT).reverse();
  const latestBuildOf = new Map<string, (typeof builds)[number]>();
  for (const build of builds) {
    const label = servedLabel(build);
    if (label && !latestBuildOf.has(label)) latestBuildOf.set(label, build);
  }
  const shown = all.filter((demo) => demo.status !== "queued");
  // An environment's services as Docker runs them (state, health): asked for those demos only, all at once.
  const services = new Map(await Promise.all(shown.filter((demo) => engine.specFor(demo)?.environment).map(async (demo) => [demo.id, await engine.services(demo.id).catch(() => [])] as const)));
  const demos = shown.map((demo) => {
    // secondsLeft changes every second: the page counts down from expiresAt, and the stream sends only real changes.
    const { secondsLeft: _secondsLeft, url, ...view } = ctx.viewFor(demo, { withInstances: true });
    // Who may open it, and its live share links (never their tokens: a link is shown once, when it is made).
    const access = ctx.access ? { access: ctx.access.policyOf(demo).mode, shares: ctx.access.shares(demo.id).map((share) => ({ id: share.id, note: share.note, expiresAt: new Date(share.expiresAt).toISOString() })) } : {};
    return { ...view, url, ...access, ...(demo.owner ? { owner: demo.owner.slice(0, 10) } : {}), ...(demo.pooled ? { pooled: true } : {}), rewindable: Boolean(config.apps[demo.app]?.state), ...(services.has(demo.id) ? { services: services.get(demo.id) } : {}) };
  });
  const queue = all
    .filter((demo) => demo.status === "queued")
    .map((demo) => ({ id: demo.id, app: demo.app, since: new Date(demo.createdAt).toISOString(), position: engine.queueInfo(demo.id)?.position ?? 0, ...(demo.owner ? { owner: demo.owner.slice(0, 10) } : {}) }))
    .sort((a, b) => a.position - b.position);
  const pools = engine.poolStatus();
  const prepared = engine.preparedStatus();
  const previews = all.filter((demo) => demo.kind === "preview").map((demo) => {
    const build = latestBuildOf.get(demo.id);
    const labels = demo.extraLabels ?? {};
    return {
      id: demo.id,
      host: demo.host,
      url: ctx.urlOf(demo),
      status: demo.status,
      ...(build ? { source: build.source, ...(build.branch ? { branch: build.branch } : {}), commit: build.commit, build: build.id } : {}),
      ...(labels["demo-launcher.repo"] ? { repo: labels["demo-launcher.repo"] } : {}),
      ...(labels["demo-launcher.pr"] ? { pr: Number(labels["demo-launcher.pr"]) } : {}),
      ...(labels["demo-launcher.commit"] ? { commit: labels["demo-launcher.commit"] } : {}),
    };
  });
  const status = await ctx.status();
  const tls = status.tls as TlsReport | undefined;
  const watcher = status.watcher as { state?: string; appliedGeneration?: number; lastError?: { kind: string; message: string; at: string } } | undefined;
  return {
    apps: Object.fromEntries(Object.entries(config.apps).map(([name, app]) => [name, { pool: app.pool, sources: Object.keys(app.state?.sources ?? {}) }])),
    demos,
    queue,
    // Warm pools and created-ahead containers, per app that keeps either.
    pools: [...new Set([...Object.keys(pools), ...Object.keys(prepared)])].map((app) => ({ app, size: config.apps[app]?.pool ?? 0, ready: pools[app]?.ready ?? 0, starting: pools[app]?.starting ?? 0, prepared: prepared[app]?.ready ?? 0, preparedSize: config.apps[app]?.prepared ?? 0 })),
    builds: builds.map((build) => buildView(build, (label) => `${publicOrigin(config, hostFor(label, config.domain))}/`)),
    previews,
    shared: Object.keys(config.shared).map((name) => sharedView(ctx, name)),
    deliveries: (ctx.deliveries?.list() ?? []).slice(0, RECENT).map((delivery) => ({ ...delivery, receivedAt: new Date(delivery.receivedAt).toISOString() })),
    health: {
      docker: engine.dockerStatus(),
      watcher: { state: watcher?.state ?? "unknown", ...(watcher?.lastError ? { lastError: watcher.lastError } : {}) },
      routes: { written: engine.currentGeneration(), served: watcher?.appliedGeneration ?? null },
      // HTTPS (tls:): the certificate's end, and doctor's words when renewals fail or the end nears.
      ...(tls ? { tls: { ...tlsCheckOf(tls, engine.now()), ...(tls.certificate ? { notAfter: tls.certificate.notAfter } : {}) } } : {}),
      limits: { maxDemos: config.limits.maxDemos, queueLength: config.limits.queueLength },
    },
  };
}
