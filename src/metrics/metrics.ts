// Prometheus metrics (prom-client): counters and histograms fed by the engine's events, gauges read from the engine at each scrape.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BuildRunner } from "../builds/build-runner.js";
import { ACTIVE_STATES, type Build } from "../core/builds/build-queue.js";
import type { MetricsSource } from "../core/services.js";
import type { EngineEvent } from "../core/events.js";
import type { DeliveryLog } from "../forges/deliveries.js";
import type { WatcherStatus } from "../nginx/watcher-status.js";
import type { TlsReport } from "../tls/tls-status.js";

/** Seconds from a visitor's click to an app that answers through nginx: from a warm pool's milliseconds to a slow app's minute. */
const LAUNCH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const JOB_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

export interface MetricsSources {
  engine: MetricsSource;
  apps: readonly string[];
  watcherStatus: () => Promise<WatcherStatus | undefined>;
  builds?: BuildRunner | undefined;
  deliveries?: DeliveryLog | undefined;
  /** HTTPS: the certificate served and its renewals (tls:). */
  tls?: () => TlsReport;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly launches: Counter<"app" | "outcome">;
  private readonly launchToReady: Histogram<"app" | "kind">;
  private readonly ended: Counter<"app" | "kind" | "status">;
  private readonly replacements: Histogram<"outcome">;
  private readonly rewinds: Histogram<"app" | "outcome">;
  private readonly resets: Histogram<"name" | "trigger" | "outcome">;
  private readonly builds: Histogram<"source" | "outcome">;
  private readonly routesApplied: Histogram;
  readonly reaperLag: Histogram;
  private readonly accessChecks: Counter<"result" | "reason">;
  private readonly apps: Set<string>;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.apps = new Set(sources.apps);
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool says so): left out.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) this.registry.removeSingleMetric(name);
    this.launches = new Counter({ name: "demo_launcher_launches_total", help: "Launch requests by app and outcome: started, warm (a pool member), queued, or refused (full, rate_limited, unknown_app, shutting_down).", labelNames: ["app", "outcome"], registers });
    this.launchToReady = new Histogram({ name: "demo_launcher_launch_to_ready_seconds", help: "From the accepted launch to the demo served through nginx.", labelNames: ["app", "kind"], buckets: LAUNCH_BUCKETS, registers });
    this.accessChecks = new Counter({ name: "demo_launcher_access_checks_total", help: "Requests to gated hosts the controller decided (nginx keeps a yes a few seconds, so these are its cache misses), by result and reason: the way in (signin, password, share, owner) or why not (no-session, not-allowed, share-ended, wrong-password, rate-limited, …).", labelNames: ["result", "reason"], registers });
    this.ended = new Counter({ name: "demo_launcher_demos_ended_total", help: "Demos that ended, by status: expired, stopped or failed.", labelNames: ["app", "kind", "status"], registers });
    this.replacements = new Histogram({ name: "demo_launcher_replacement_duration_seconds", help: "Zero-downtime replacements by outcome, from start to the switch (or the failure).", labelNames: ["outcome"], buckets: JOB_BUCKETS, registers });
    this.rewinds = new Histogram({ name: "demo_launcher_rewind_duration_seconds", help: "Rewinds of a demo's database by outcome (done or failed).", labelNames: ["app", "outcome"], buckets: JOB_BUCKETS, registers });
    this.resets = new Histogram({ name: "demo_launcher_shared_reset_duration_seconds", help: "Blue-green resets of shared demos by trigger and outcome.", labelNames: ["name", "trigger", "outcome"], buckets: JOB_BUCKETS, registers });
    this.builds = new Histogram({ name: "demo_launcher_build_duration_seconds", help: "Preview builds by source and outcome (ready, failed, cancelled, timed-out), from start to end.", labelNames: ["source", "outcome"], buckets: JOB_BUCKETS, registers });
    this.routesApplied = new Histogram({ name: "demo_launcher_routes_apply_seconds", help: "From writing the routes file to nginx serving it (render, watcher, nginx -t, reload).", buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers });
    this.reaperLag = new Histogram({ name: "demo_launcher_reaper_lag_seconds", help: "How late each reaper pass started after its tick.", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers });
    this.gauges(registers);
    sources.builds?.onChange((build) => this.onBuild(build));
  }

  /** A gated host's check the controller answered (nginx's cached answers never reach it). */
  accessChecked(result: "allowed" | "refused", reason: string): void {
    this.accessChecks.inc({ result, reason });
  }

  /** The engine's events: counted here, one label set per app that exists (an unknown app name is not a label). */
  readonly sink = (event: EngineEvent): void => {
    const app = "app" in event && this.apps.has(event.app) ? event.app : "other";
    switch (event.type) {
      case "launch-accepted":
        return void this.launches.inc({ app, outcome: event.warm ? "warm" : event.queued ? "queued" : "started" });
      case "launch-refused":
        return void this.launches.inc({ app, outcome: event.reason.replace(/-/g, "_") });
      case "ready":
        return void this.launchToReady.observe({ app: event.kind === "visitor" ? app : event.app, kind: event.kind }, event.seconds);
      case "ended":
        return void this.ended.inc({ app: event.kind === "visitor" ? app : event.app, kind: event.kind, status: event.status });
      case "replaced":
        return void this.replacements.observe({ outcome: event.outcome }, event.seconds);
      case "rewound":
        return void this.rewinds.observe({ app, outcome: event.outcome }, event.seconds);
      case "reset":
        return void this.resets.observe({ name: event.id, trigger: event.trigger, outcome: event.outcome }, event.seconds);
      case "routes-applied":
        return void this.routesApplied.observe(event.seconds);
      default:
        return undefined;
    }
  };

  private onBuild(build: Build): void {
    if (ACTIVE_STATES.includes(build.state) || build.startedAt === undefined) return;
    this.builds.observe({ source: build.source, outcome: build.state }, ((build.finishedAt ?? this.sources.engine.now()) - build.startedAt) / 1000);
  }

  /** Read at each scrape: what is live now, and the health of Docker, the watcher and nginx. */
  private gauges(registers: Registry[]): void {
    const { engine } = this.sources;
    new Gauge({
      name: "demo_launcher_live_demos",
      help: "Live demos by kind, app and status (queued, starting, ready, asleep).",
      labelNames: ["kind", "app", "status"],
      registers,
      collect() {
        this.reset();
        for (const demo of engine.list()) this.inc({ kind: demo.kind, app: demo.app, status: demo.status });
      },
    });
    new Gauge({ name: "demo_launcher_queue_length", help: "Visitors waiting in line for a slot.", registers, collect() { this.set(engine.list().filter((demo) => demo.status === "queued").length); } });
    new Gauge({
      name: "demo_launcher_warm_pool",
      help: "Warm pool members by app and state (ready or starting).",
      labelNames: ["app", "state"],
      registers,
      collect() {
        this.reset();
        for (const [app, pool] of Object.entries(engine.poolStatus())) {
          this.set({ app, state: "ready" }, pool.ready);
          this.set({ app, state: "starting" }, pool.starting);
        }
      },
    });
    new Gauge({
      name: "demo_launcher_prepared_containers",
      help: "Containers created ahead (not started) by app and state (ready: waiting for a launch; creating).",
      labelNames: ["app", "state"],
      registers,
      collect() {
        this.reset();
        for (const [app, counts] of Object.entries(engine.preparedStatus())) {
          this.set({ app, state: "ready" }, counts.ready);
          this.set({ app, state: "creating" }, counts.creating);
        }
      },
    });
    new Gauge({ name: "demo_launcher_docker_up", help: "1 while the Docker engine answers.", registers, collect() { this.set(engine.dockerStatus().state === "ok" ? 1 : 0); } });
    new Gauge({ name: "demo_launcher_routes_generation", help: "The routes generation the controller last wrote.", registers, collect() { this.set(engine.currentGeneration()); } });
    const tls = this.sources.tls;
    if (tls) {
      new Gauge({ name: "demo_launcher_tls_certificate_expiry_timestamp_seconds", help: "When the served certificate ends (Unix time); alert well before it.", registers, collect() { const end = tls().certificate?.notAfter; if (end) this.set(Date.parse(end) / 1000); } });
      new Gauge({ name: "demo_launcher_tls_renewal_failures", help: "Certificate orders (or reads of the operator's files) that failed in a row since the last success; the old certificate serves meanwhile.", registers, collect() { this.set(tls().failures); } });
    }
    const watcher = this.sources.watcherStatus;
    new Gauge({
      name: "demo_launcher_watcher_up",
      help: "1 while the watcher's last outcome is ok (it reloaded nginx or had nothing to do).",
      registers,
      async collect() {
        this.set((await watcher())?.state === "ok" ? 1 : 0);
      },
    });
    // The watcher is its own process: its count is read from its status file, and only ever grows.
    new Counter({
      name: "demo_launcher_nginx_reloads_total",
      help: "Graceful nginx reloads done by the watcher since it started.",
      registers,
      async collect() {
        this.reset();
        this.inc((await watcher())?.reloads ?? 0);
      },
    });
    // Registered even without builds or GitHub configured: a dashboard's query finds the metric, empty.
    const builds = this.sources.builds;
    {
      new Gauge({
        name: "demo_launcher_build_queue",
        help: "Preview builds waiting or running, by state.",
        labelNames: ["state"],
        registers,
        collect() {
          this.reset();
          if (!builds) return;
          for (const state of ACTIVE_STATES) this.set({ state }, 0);
          for (const build of builds.queue.all()) if (ACTIVE_STATES.includes(build.state)) this.inc({ state: build.state });
        },
      });
    }
    const deliveries = this.sources.deliveries;
    {
      new Gauge({
        name: "demo_launcher_webhook_deliveries",
        help: "GitHub webhook deliveries kept (the last 72 h), by outcome.",
        labelNames: ["outcome"],
        registers,
        collect() {
          this.reset();
          for (const delivery of deliveries?.list() ?? []) this.inc({ outcome: delivery.outcome });
        },
      });
    }
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
