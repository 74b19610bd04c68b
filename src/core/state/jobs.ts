// Jobs: long operations on a demo (a rewind) that answer at once and are followed by id; kept across restarts.
import type { JobView } from "../../api/views.js";

export type JobStatus = "queued" | "running" | "done" | "failed";

export interface Job {
  id: string;
  kind: "rewind" | "snapshot";
  demoId: string;
  app: string;
  source: string;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  reason?: string;
  /** Runs so far: a job a restart interrupted runs once more, then fails with the reason. */
  attempts: number;
}

/** Finished jobs kept for `GET /api/jobs/:id`; active ones are always kept. */
const KEEP_FINISHED = 500;

export function isActive(job: Job): boolean {
  return job.status === "queued" || job.status === "running";
}

export class JobBook {
  private readonly jobs = new Map<string, Job>();

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** The queued or running job of a demo: a second request gets it instead of a second job. */
  activeFor(demoId: string, kind: Job["kind"]): Job | undefined {
    for (const job of this.jobs.values()) if (job.demoId === demoId && job.kind === kind && isActive(job)) return job;
    return undefined;
  }

  add(job: Job): void {
    this.jobs.set(job.id, job);
    const finished = [...this.jobs.values()].filter((candidate) => !isActive(candidate));
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(old.id);
  }

  all(): Job[] {
    return [...this.jobs.values()];
  }

  /** Loads the last run's jobs; those it left queued or running are handed back to be run again (or failed). */
  restore(saved: Job[]): Job[] {
    const interrupted: Job[] = [];
    for (const job of saved) {
      this.jobs.set(job.id, { ...job });
      if (isActive(job)) interrupted.push(this.jobs.get(job.id)!);
    }
    return interrupted;
  }
}

/** The JSON a caller sees for a job. */
export function jobView(job: Job, now: number): JobView {
  const end = job.finishedAt ?? (job.startedAt !== undefined ? now : undefined);
  return {
    id: job.id,
    kind: job.kind,
    demo: job.demoId,
    app: job.app,
    source: job.source,
    status: job.status,
    createdAt: new Date(job.createdAt).toISOString(),
    ...(job.startedAt !== undefined ? { startedAt: new Date(job.startedAt).toISOString() } : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: new Date(job.finishedAt).toISOString() } : {}),
    ...(job.startedAt !== undefined && end !== undefined ? { durationMs: end - job.startedAt } : {}),
    ...(job.reason ? { reason: job.reason } : {}),
    attempts: job.attempts,
  };
}
