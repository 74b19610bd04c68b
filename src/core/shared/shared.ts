// Shared demos: long-lived, several replicas behind one host, kept at their count, reset blue-green to a known state.
import { toHealth, toReady, toStatus, toStep } from "../lifecycle.js";
import type { AppSpec } from "../app-spec.js";
import type { EngineContext } from "../context.js";
import { describeError, DomainError } from "../errors.js";
import { awaitInstanceReady, createInstance, InstanceFailure } from "../instances/instances.js";
import { publishUntilServed } from "../routing/route-desk.js";
import { healthyInstances, type Demo, type Instance } from "../model.js";
import { hostFor } from "../routing/naming.js";
import { finishDrain } from "../demos/replacement.js";
import { snapshotImage } from "../state/state-sources.js";

export interface SharedSpec {
  /** Its name in the config, and its id: the host's first label. */
  name: string;
  app: string;
  replicas: number;
  /** The state source its instances are reset to; the app's default when unset. */
  source?: string | undefined;
}

/** How the last reset went (shown in GET /api/shared, kept across restarts). */
export interface ResetState {
  status: "running" | "succeeded" | "failed";
  trigger: "scheduled" | "requested" | "missed" | "interrupted";
  startedAt: number;
  finishedAt?: number;
  reason?: string;
}

/** Labels cannot change: a shared demo's lease is written once, far ahead; it ends only when the config drops it. */
const SHARED_LEASE_MS = 10 * 365 * 24 * 3_600_000;
/** After a replica fails to start, its demo waits this long before trying again (no crash loop). */
const RETRY_AFTER_FAILURE_MS = 15_000;
/** A serving replica that fails this many health checks in a row is taken out of the route and replaced. */
const FAILED_CHECKS_TO_REPLACE = 3;

export class SharedDemos {
  /** Shared demos with a top-up or a reset in flight: one at a time each. */
  private readonly busy = new Set<string>();
  private readonly pausedUntil = new Map<string, number>();
  private readonly failedChecks = new Map<string, number>();
  readonly resets = new Map<string, ResetState>();
  readonly lastResetAt = new Map<string, number>();

  constructor(private readonly ctx: EngineContext, private readonly specs: readonly SharedSpec[]) {}

  get names(): string[] {
    return this.specs.map((spec) => spec.name);
  }

  spec(name: string): SharedSpec | undefined {
    return this.specs.find((spec) => spec.name === name);
  }

  /** Loads what the last run saved; an interrupted reset runs again once the demo serves. */
  restore(saved: Array<{ id: string; lastResetAt?: number; reset?: ResetState }>): void {
    for (const entry of saved) {
      if (entry.lastResetAt !== undefined) this.lastResetAt.set(entry.id, entry.lastResetAt);
      if (entry.reset) this.resets.set(entry.id, entry.reset);
    }
  }

  snapshot(): Array<{ id: string; lastResetAt?: number; reset?: ResetState }> {
    return this.specs.map((spec) => ({ id: spec.name, ...(this.lastResetAt.has(spec.name) ? { lastResetAt: this.lastResetAt.get(spec.name)! } : {}), ...(this.resets.has(spec.name) ? { reset: this.resets.get(spec.name)! } : {}) }));
  }

  /** Starts what is missing, removes what is extra, re-runs a reset a restart interrupted; cheap, every reaper tick. */
  ensure(): void {
    const { ctx } = this;
    if (ctx.shuttingDown) return;
    for (const spec of this.specs) {
      const app = ctx.options.apps[spec.app];
      if (!app || this.busy.has(spec.name) || (this.pausedUntil.get(spec.name) ?? 0) > ctx.now()) continue;
      let demo = ctx.registry.get(spec.name);
      if (demo && demo.kind !== "shared") continue; // the config checks names; a visitor's id can never be one
      if (!demo) {
        const now = ctx.now();
        demo = { id: spec.name, kind: "shared", app: spec.app, host: hostFor(spec.name, ctx.options.domain), createdAt: now, expiresAt: now + SHARED_LEASE_MS, status: "starting", step: "creating", instances: [] };
        ctx.registry.add(demo);
        if (!this.lastResetAt.has(spec.name)) this.lastResetAt.set(spec.name, now);
      }
      const pending = this.resets.get(spec.name);
      if (pending?.status === "running" && demo.status === "ready") {
        this.run(spec.name, () => this.reset(demo!, spec, app, pending.trigger, pending));
        continue;
      }
      const serving = demo.instances.filter((instance) => instance.health !== "draining");
      if (serving.length < spec.replicas) this.run(spec.name, () => this.topUp(demo!, spec, app, spec.replicas - serving.length));
      else if (serving.length > spec.replicas) this.run(spec.name, () => this.trim(demo!, serving.length - spec.replicas));
    }
  }

  /** Probes every serving replica; one that keeps failing is unrouted and removed (ensure() starts another). */
  async checkHealth(): Promise<void> {
    const { ctx } = this;
    for (const spec of this.specs) {
      const demo = ctx.registry.get(spec.name);
      if (!demo || demo.kind !== "shared" || this.busy.has(spec.name)) continue;
      const path = ctx.specFor(demo)?.readiness.path ?? "/";
      for (const instance of healthyInstances(demo)) {
        const ok = await ctx.options.readiness(instance.endpoint!, path).catch(() => false);
        const failures = ok ? 0 : (this.failedChecks.get(instance.id) ?? 0) + 1;
        this.failedChecks.set(instance.id, failures);
        if (failures < FAILED_CHECKS_TO_REPLACE) continue;
        this.failedChecks.delete(instance.id);
        ctx.logger.warn(`shared demo ${demo.id}: replica ${instance.id} stopped answering; it is taken out of the route and replaced`);
        await this.dropInstance(demo, instance);
      }
    }
  }

  /** Takes an instance out of the route and removes it; the next ensure() starts a new one. */
  async dropInstance(demo: Demo, instance: Instance): Promise<void> {
    demo.instances = demo.instances.filter((candidate) => candidate !== instance);
    if (healthyInstances(demo).length === 0 && demo.status === "ready") toStatus(this.ctx, demo, "starting");
    await this.ctx.publishRoutes().catch(() => {});
    if (instance.containerId) await this.ctx.removeQuietly(instance.containerId);
  }

  /** A reset asked for now (the API, the schedule, a missed schedule at start); answers at once. */
  requestReset(name: string, trigger: ResetState["trigger"]): ResetState {
    const spec = this.spec(name);
    const demo = this.ctx.registry.get(name);
    if (!spec || !demo || demo.kind !== "shared") throw new DomainError({ code: "no-such-shared", name, allowed: this.names });
    const app = this.ctx.options.apps[spec.app];
    const running = this.resets.get(name);
    if (running?.status === "running" && this.busy.has(name)) return running;
    if (!app || demo.status !== "ready" || this.busy.has(name)) {
      // Still starting (or topping up): the reset runs once it serves, from ensure().
      const pending: ResetState = { status: "running", trigger, startedAt: this.ctx.now() };
      this.resets.set(name, pending);
      void this.ctx.saver.save();
      return pending;
    }
    const state: ResetState = { status: "running", trigger, startedAt: this.ctx.now() };
    this.resets.set(name, state);
    this.run(name, () => this.reset(demo, spec, app, trigger, state));
    return state;
  }

  private run(name: string, work: () => Promise<void>): void {
    this.busy.add(name);
    this.ctx.track(work().finally(() => this.busy.delete(name)));
  }

  /** Starts `count` replicas (created one by one, ready in parallel), routes each as it answers. */
  private async topUp(demo: Demo, spec: SharedSpec, app: AppSpec, count: number): Promise<void> {
    const { ctx } = this;
    const wanted = () => !ctx.closed && ctx.registry.isLive(demo);
    let started: Instance[];
    try {
      started = await this.startInstances(demo, spec, app, count, wanted);
    } catch (error) {
      return this.pause(demo, `a replica could not be started: ${error instanceof InstanceFailure ? error.message : describeError(error)}`);
    }
    toHealth(started, "healthy");
    if (started.length === 0) return;
    if (demo.status !== "ready") toStep(demo, "routing");
    const confirmed = await publishUntilServed(ctx, wanted, `shared demo ${demo.id}`);
    if (confirmed === undefined) return;
    toReady(this.ctx, demo);
  }

  /** Creates, waits until each answers and holds the source; on any failure removes every one it made and throws. */
  private async startInstances(demo: Demo, spec: SharedSpec, app: AppSpec, count: number, wanted: () => boolean): Promise<Instance[]> {
    const { ctx } = this;
    const made: Instance[] = [];
    try {
      // One by one: each takes the next generation number, which names its container.
      for (let index = 0; index < count; index += 1) {
        const instance = await createInstance(ctx, demo, app, await this.imageFor(spec, app), wanted);
        if (!instance) break;
        made.push(instance);
      }
      const outcomes = await Promise.all(made.map((instance) => awaitInstanceReady(ctx, demo, instance, app.readiness, ctx.now(), wanted)));
      const failed = outcomes.find((outcome) => outcome.outcome !== "ready");
      if (failed) throw new InstanceFailure(failed.outcome === "failed" ? failed.reason : "the shared demo stopped being wanted");
      const source = spec.source ?? app.state?.default;
      const settings = source ? app.state?.sources[source] : undefined;
      // The image holds the app's default dump; another dump is restored before the replica serves.
      if (settings?.kind === "dump" && source !== app.state!.default) {
        const restorer = ctx.options.restorer;
        if (!restorer) throw new InstanceFailure("no restorer is configured for state sources");
        await Promise.all(made.map((instance) => restorer.restore(instance.containerId!, settings)));
      }
      return made;
    } catch (error) {
      demo.instances = demo.instances.filter((instance) => !made.includes(instance));
      await Promise.all(made.map((instance) => (instance.containerId ? ctx.removeQuietly(instance.containerId) : undefined)));
      throw error;
    }
  }

  /** A snapshot source's image once it exists (the replicas start from it); else the app's image. */
  private async imageFor(spec: SharedSpec, app: AppSpec): Promise<string> {
    const source = spec.source ?? app.state?.default;
    if (!source || app.state?.sources[source]?.kind !== "snapshot") return app.image;
    const image = snapshotImage(this.ctx.options.namespace, spec.app, source);
    return (await this.ctx.options.runtime.imageExists(image).catch(() => false)) ? image : app.image;
  }

  private async trim(demo: Demo, count: number): Promise<void> {
    const extra = demo.instances.filter((instance) => instance.health !== "draining").sort((a, b) => a.generation - b.generation).slice(0, count);
    toHealth(extra, "draining");
    await this.ctx.publishRoutes().catch(() => {});
    await Promise.all(extra.map((instance) => finishDrain(this.ctx, demo, instance)));
  }

  /**
   * Blue-green: as many new replicas as the config says, from the image and the source, each answering; then one
   * publish routes the host to them only; once nginx confirms, the old ones drain and go. Any failure before the
   * switch removes the new ones and the old keep serving.
   */
  private async reset(demo: Demo, spec: SharedSpec, app: AppSpec, trigger: ResetState["trigger"], state: ResetState = { status: "running", trigger, startedAt: this.ctx.now() }): Promise<void> {
    const { ctx } = this;
    this.resets.set(demo.id, state);
    await ctx.saver.save();
    const wanted = () => !ctx.closed && ctx.registry.isLive(demo) && demo.status === "ready";
    let fresh: Instance[];
    try {
      fresh = await this.startInstances(demo, spec, app, spec.replicas, wanted);
    } catch (error) {
      if (ctx.closed) return; // the next start runs it again
      return this.finishReset(demo, state, "failed", error instanceof InstanceFailure ? error.message : describeError(error));
    }
    if (fresh.length < spec.replicas) return; // closed meanwhile
    const old = demo.instances.filter((instance) => !fresh.includes(instance) && instance.health !== "draining");
    toHealth(fresh, "healthy");
    toHealth(old, "draining");
    const confirmed = await publishUntilServed(ctx, () => !ctx.closed && ctx.registry.isLive(demo), `resetting shared demo ${demo.id}`);
    if (confirmed === undefined) return;
    if (!confirmed) {
      toHealth(old, "healthy");
      demo.instances = demo.instances.filter((instance) => !fresh.includes(instance));
      await ctx.publishRoutes().catch(() => {});
      await Promise.all(fresh.map((instance) => ctx.removeQuietly(instance.containerId!)));
      return this.finishReset(demo, state, "failed", "nginx did not confirm the switch to the new replicas (check the watcher)");
    }
    this.lastResetAt.set(demo.id, ctx.now());
    await this.finishReset(demo, state, "succeeded");
    await Promise.all(old.map((instance) => finishDrain(ctx, demo, instance)));
  }

  private async finishReset(demo: Demo, state: ResetState, status: "succeeded" | "failed", reason?: string): Promise<void> {
    Object.assign(state, { status, finishedAt: this.ctx.now(), ...(reason ? { reason } : {}) });
    this.ctx.emit({ type: "reset", id: demo.id, app: demo.app, trigger: state.trigger, outcome: status, seconds: (state.finishedAt! - state.startedAt) / 1000, ...(reason ? { reason } : {}) });
    await this.ctx.saver.save();
  }

  private pause(demo: Demo, reason: string): void {
    this.ctx.logger.warn(`shared demo ${demo.id}: ${reason}; trying again in ${RETRY_AFTER_FAILURE_MS / 1000} s`);
    demo.reason = reason;
    this.pausedUntil.set(demo.id, this.ctx.now() + RETRY_AFTER_FAILURE_MS);
  }
}
