// Forge deliveries (GitHub's and GitLab's webhooks) on disk: each is written (payload and record) before the webhook is answered, so a crash
// after the answer loses nothing; ids are remembered for 72 h across restarts, so a redelivery is done once.
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../core/app-spec.js";
import { describeError } from "../core/errors.js";
import { readIfExists, serialWriter, writeAtomically } from "../files/atomic.js";
import type { Forge } from "../core/forges/forge-intent.js";

const KEEP_MS = 72 * 3_600_000;
const MAX_KEPT = 20_000;
export const DELIVERY_ID_PATTERN = /^[A-Za-z0-9-]{1,100}$/;

/** `done`: a comment's command was carried out. */
export type DeliveryOutcome = "received" | "ignored" | "queued" | "removed" | "done" | "failed";

export interface Delivery {
  id: string;
  /** Who sent it; records of earlier versions have none and are GitHub's. */
  forge?: Forge;
  event: string;
  receivedAt: number;
  outcome: DeliveryOutcome;
  reason?: string;
  repo?: string;
  pr?: number;
  commit?: string;
  build?: string;
  /** The id of the comment whose command it carries (a command is run once per comment). */
  comment?: number;
  /** How many times the forge sent it (a redelivery counts, and is not acted on again). */
  received: number;
}

export class DeliveryLog {
  private readonly deliveries = new Map<string, Delivery>();
  private readonly file: string;
  private readonly payloadDir: string;
  private readonly writeState: (content: () => string) => Promise<void>;

  constructor(stateDir: string, private readonly now: () => number, private readonly logger: Logger) {
    this.file = path.join(stateDir, "deliveries.json");
    this.writeState = serialWriter(this.file, (error) => this.logger.error(`saving ${this.file}: ${describeError(error)}`));
    this.payloadDir = path.join(stateDir, "deliveries");
  }

  /** Loads what earlier runs kept; answers the deliveries received but never acted on (a crash in between). */
  async start(): Promise<Delivery[]> {
    const text = await readIfExists(this.file);
    try {
      for (const delivery of text ? ((JSON.parse(text) as { deliveries?: Delivery[] }).deliveries ?? []) : []) this.deliveries.set(delivery.id, delivery);
    } catch (error) {
      this.logger.error(`${this.file} is not readable (${describeError(error)}); starting without it`);
    }
    await this.prune();
    return this.list().filter((delivery) => delivery.outcome === "received");
  }

  get(id: string): Delivery | undefined {
    return this.deliveries.get(id);
  }

  list(): Delivery[] {
    return [...this.deliveries.values()].sort((a, b) => b.receivedAt - a.receivedAt);
  }

  /** Records a new delivery and its payload on disk; resolves once both are written. */
  async receive(delivery: Omit<Delivery, "received" | "receivedAt">, payload: Buffer): Promise<Delivery> {
    const record: Delivery = { ...delivery, receivedAt: this.now(), received: 1 };
    this.deliveries.set(record.id, record);
    if (record.outcome === "received") {
      await mkdir(this.payloadDir, { recursive: true });
      await writeAtomically(this.payloadFile(record.id), payload);
    }
    await this.save();
    return record;
  }

  /** A redelivery of one already received: counted, not acted on. */
  async again(id: string): Promise<void> {
    const delivery = this.deliveries.get(id);
    if (!delivery) return;
    delivery.received += 1;
    await this.save();
  }

  async payload(id: string): Promise<Buffer | undefined> {
    return readFile(this.payloadFile(id)).catch(() => undefined);
  }

  /** The outcome of acting on it; its payload is no longer needed. */
  async settle(id: string, outcome: Exclude<DeliveryOutcome, "received">, extra: Partial<Pick<Delivery, "reason" | "build" | "repo" | "pr" | "commit">> = {}): Promise<void> {
    const delivery = this.deliveries.get(id);
    if (!delivery) return;
    Object.assign(delivery, { outcome, ...extra });
    await this.save();
    await rm(this.payloadFile(id), { force: true });
  }

  private payloadFile(id: string): string {
    return path.join(this.payloadDir, `${id}.json`);
  }

  private async prune(): Promise<void> {
    const cutoff = this.now() - KEEP_MS;
    const old = this.list().filter((delivery, index) => delivery.receivedAt < cutoff || index >= MAX_KEPT);
    for (const delivery of old) {
      this.deliveries.delete(delivery.id);
      await rm(this.payloadFile(delivery.id), { force: true });
    }
    await this.save();
  }

  /** Writes one at a time, in order: the last write holds the newest state. */
  private save(): Promise<void> {
    return this.writeState(() => `${JSON.stringify({ version: 1, deliveries: this.list() })}\n`);
  }
}
