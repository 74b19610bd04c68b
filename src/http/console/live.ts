// The console's live view: one snapshot made per change (at most a few a second) and sent to every open page as server-sent events.
import type { ServerResponse } from "node:http";
import type { Cancel, Scheduler } from "../../core/scheduler.js";
import { systemScheduler } from "../../clock/system-scheduler.js";

interface Viewer {
  response: ServerResponse;
  /** The session ends at this time: its stream is closed then, and the page finds itself signed out. */
  until: number;
}

export class LiveSnapshots {
  private readonly viewers = new Set<Viewer>();
  private lastSent = "";
  private sequence = 0;
  private pending?: Cancel | undefined;
  private readonly timers: Cancel[] = [];

  /**
   * `make` builds the snapshot; events poke it at once (debounced), and a slow tick catches what sends no
   * events (builds, deliveries, the watcher). Nothing is made while nobody watches.
   */
  constructor(private readonly make: () => Promise<unknown>, private readonly options: { debounceMs: number; tickMs: number; heartbeatMs: number } = { debounceMs: 150, tickMs: 2000, heartbeatMs: 15_000 }, private readonly scheduler: Scheduler = systemScheduler) {}

  get watching(): number {
    return this.viewers.size;
  }

  async add(response: ServerResponse, until: number): Promise<void> {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // nginx would otherwise buffer the stream and the page would see nothing.
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    const viewer: Viewer = { response, until };
    this.viewers.add(viewer);
    response.on("close", () => this.viewers.delete(viewer));
    if (this.timers.length === 0) this.startTimers();
    // The newcomer gets the current state at once; the others only when it changes.
    const json = JSON.stringify(await this.make());
    this.lastSent = json;
    this.write(viewer, json);
  }

  poke(): void {
    if (this.viewers.size === 0 || this.pending) return;
    this.pending = this.scheduler.after(this.options.debounceMs, () => {
      this.pending = undefined;
      void this.refresh();
    });
  }

  close(): void {
    this.pending?.();
    this.pending = undefined;
    for (const cancel of this.timers.splice(0)) cancel();
    for (const viewer of this.viewers) viewer.response.end();
    this.viewers.clear();
  }

  private startTimers(): void {
    this.timers.push(this.scheduler.every(this.options.tickMs, () => this.refresh()));
    // A comment line now and then: proxies keep the stream open, and a dead page is noticed.
    this.timers.push(this.scheduler.every(this.options.heartbeatMs, () => this.broadcast(": keep-alive\n\n")));
  }

  private async refresh(): Promise<void> {
    this.expireSessions();
    if (this.viewers.size === 0) {
      for (const cancel of this.timers.splice(0)) cancel();
      return;
    }
    let json: string;
    try {
      json = JSON.stringify(await this.make());
    } catch {
      return; // the next tick tries again; a page keeps what it shows
    }
    if (json === this.lastSent) return;
    this.lastSent = json;
    for (const viewer of this.viewers) this.write(viewer, json);
  }

  private expireSessions(): void {
    const now = this.scheduler.now();
    for (const viewer of this.viewers) {
      if (viewer.until > now) continue;
      viewer.response.end("event: signed-out\ndata: {}\n\n");
      this.viewers.delete(viewer);
    }
  }

  private write(viewer: Viewer, json: string): void {
    this.sequence += 1;
    viewer.response.write(`id: ${this.sequence}\nevent: state\ndata: {"now":${this.scheduler.now()},"state":${json}}\n\n`);
  }

  private broadcast(text: string): void {
    this.expireSessions();
    for (const viewer of this.viewers) viewer.response.write(text);
  }
}
