// Docker outages: reported once when they start and once when they end; a window in which stopped demos are started again.
import { formatDuration } from "../duration.js";
import type { Logger } from "../app-spec.js";

const RECOVERY_WINDOW_MS = 60_000;
/** A daemon that is starting can answer one call and drop the next: a relapse this soon is the same outage. */
const RELAPSE_MS = 10_000;

export class DockerOutage {
  /** Set while Docker does not answer. */
  private downSince: number | undefined;
  /**
   * Docker went away: until then, ready demos whose containers it stopped on the way down are started again.
   * A window, not a flag, because Docker may still answer for a moment while it is stopping them.
   */
  private restartStoppedUntil = 0;
  /** The last outage that ended, so a relapse right after it is not reported as a new one. */
  private lastEnded: { since: number; at: number } | undefined;
  private relapsed = false;

  constructor(private readonly now: () => number, private readonly logger: Logger) {}

  /** Docker stopped answering: say so once; launches wait, ready demos keep their routes meanwhile. */
  lost(cause: string, closed = false): void {
    this.openRestartWindow();
    if (this.downSince !== undefined || closed) return;
    if (this.lastEnded && this.now() - this.lastEnded.at < RELAPSE_MS) {
      this.downSince = this.lastEnded.since;
      this.relapsed = true;
      return;
    }
    this.downSince = this.now();
    this.logger.error(`Docker is not answering (${cause}); demos keep their routes, launches wait for it, retrying every second`);
  }

  /** A call answered: an outage, if there was one, is over. */
  answered(): void {
    if (this.downSince === undefined) return;
    // Its end was reported already, before the relapse.
    if (!this.relapsed) this.logger.info(`Docker answers again after ${formatDuration(this.now() - this.downSince)}; re-syncing`);
    this.lastEnded = { since: this.downSince, at: this.now() };
    this.downSince = undefined;
    this.relapsed = false;
  }

  openRestartWindow(): void {
    this.restartStoppedUntil = this.now() + RECOVERY_WINDOW_MS;
  }

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** True shortly after an outage: containers stopped now were stopped by the daemon, not by their app. */
  get aroundOutage(): boolean {
    return this.now() < this.restartStoppedUntil;
  }

  status(): { state: "ok" | "unreachable"; since?: string } {
    return this.downSince === undefined ? { state: "ok" } : { state: "unreachable", since: new Date(this.downSince).toISOString() };
  }
}
