// The benchmark's report: its table, and the record of the figures on file (bench/results/record.json): each section
// as its last full run measured it, which docs/operations/performance.md is generated from (tools/results-docs.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { round } from "./measure.js";
import { readRecordFile, writeRecordFile } from "../test/support/records.js";
import { previewRows, type PreviewResults } from "./previews.js";
import { webhookRows, type WebhookResults } from "./webhooks.js";
import { screenshotRows, type ScreenshotResults } from "./screenshots.js";
import { tlsRows, type TlsResults } from "./tls.js";
import { packageRows, type PackageResults } from "./package.js";
import { databaseRows, type DatabaseResults } from "./databases.js";
import { environmentRows, type EnvironmentResults } from "./environments.js";
import { metricsRows, type MetricsResults } from "./metrics.js";
import { consoleRows, type ConsoleResults } from "./console.js";
import { swarmRows, type SwarmResults } from "./swarm.js";
import { memoryRows, type MemoryResults } from "./memory.js";
import { underLoadRows, type UnderLoadResults } from "./under-load.js";
import { startsRows, type StartsResults } from "./docker-starts.js";
import { deathRows, type DeathResults } from "./deaths.js";
import { defenceRows, type DefenceResults } from "./defences.js";
import { accessRows, type AccessResults } from "./access.js";

export type Results = Record<string, unknown>;

export const RECORD_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "record.json");

/** Each section's figures as its last full run measured them, with when and on what machine. */
export interface BenchRecord {
  sections: Record<string, { at: string; machine: unknown; result: unknown }>;
}

/** The run's own sections: everything but its metadata and its errors. */
export function sectionsOf(results: Results): string[] {
  return Object.keys(results).filter((key) => !["quick", "startedAt", "machine", "durationSeconds"].includes(key) && !key.endsWith("Error") && typeof results[key] === "object" && results[key] !== null);
}

/** A full run's sections replace theirs in the record; a quick run (smaller sizes) leaves the record alone. */
export function mergeIntoRecord(record: BenchRecord, results: Results): BenchRecord {
  if (results.quick) return record;
  const sections = { ...record.sections };
  for (const key of sectionsOf(results)) sections[key] = { at: String(results.startedAt), machine: results.machine, result: results[key] };
  return { sections };
}

/** The record as one results object, for the table. */
export function resultsOf(record: BenchRecord): Results {
  return Object.fromEntries(Object.entries(record.sections).map(([key, entry]) => [key, entry.result]));
}

export function readRecord(file = RECORD_FILE): Promise<BenchRecord> {
  return readRecordFile<BenchRecord>(file, { sections: {} });
}

export function writeRecord(record: BenchRecord, file = RECORD_FILE): Promise<void> {
  return writeRecordFile(file, record);
}

/** The table's rows, each with the results key it shows (the record dates rows by it). */
export function tableRows(results: Results): Array<{ key: string; cells: string[] }> {
  const r = results as Record<string, Record<string, number> & { over?: Record<string, number> }>;
  const rows: Array<{ key: string; cells: string[] }> = [];
  const add = (key: string, ...cells: string[][]) => rows.push(...cells.map((row) => ({ key, cells: row })));
  if (r.cold) add("cold", [`Cold launch p50 / p95 / p99 (POST → first 200 via nginx, ${r.cold.launches} launches)`, `${r.cold.p50Ms} / ${r.cold.p95Ms} / ${r.cold.p99Ms} ms`, `floor ${r.cold.floorP50Ms} / ${r.cold.floorP95Ms} / ${r.cold.floorP99Ms} ms`, `${r.cold.ratio} / ${r.cold.p95Ratio} / ${r.cold.p99Ratio}× floor (targets p50 ≤ 1.15, p95 ≤ 1.25)`]);
  if (r.cold?.preparedP50Ms !== undefined) add("cold", [`Launch from a container created ahead p50 / p95 (apps.<name>.prepared)`, `${r.cold.preparedP50Ms} / ${r.cold.preparedP95Ms} ms`, `floor ${r.cold.floorP50Ms} / ${r.cold.floorP95Ms} ms (which creates as well)`, `${r.cold.preparedRatio} / ${r.cold.preparedP95Ratio}× floor (target ≤ 0.9 both)`]);
  if (r.warm) add("warm", [`Warm launch p50 / p95 (pool ${r.warm.pool})`, `${r.warm.p50Ms} / ${r.warm.p95Ms} ms`, `cold p50 ${r.cold?.p50Ms ?? "?"} ms`, `target p50 ≤ 30 ms`]);
  if (r.burst) {
    add("burst", [`Burst: ${r.burst.n} at once, room for ${r.burst.n} (${r.burst.routable}/${r.burst.n} routable, ${r.burst.errors} errors)`, `last routable after ${r.burst.lastRoutableMs} ms, ${r.burst.reloads} nginx reloads`, `floor (${r.burst.n} started at once through the Docker API, one reload) ${r.burst.floorLastRoutableMs} ms`, `${r.burst.ratio}× floor, median of ${r.burst.rounds} rounds (target ≤ 1.2, ≤ 5 reloads; most reloads in a round shown)`]);
    const over = r.burst.over!;
    add("burst", [`Burst: ${over.n} at once, room for ${over.room}`, `${over.accepted} accepted, ${over.refusedWith429} refused (429 + Retry-After)`, `${over.otherAnswers} other answers`, `${over.leakedAfterStop} containers leaked`]);
  }
  if (r.apply) for (const [n, entry] of Object.entries(r.apply as unknown as Record<string, Record<string, number>>)) add("apply", [`Apply a change at ${Number(n).toLocaleString("en")} routes (render → reload → served)`, `${entry.ms} ms, nginx ${entry.nginxRssMb} MB`, `server blocks: ${entry.baselineMs} ms, ${entry.baselineNginxRssMb} MB`, `${entry.ratio}× baseline`]);
  if (r.rss) add("rss", [`Controller RSS idle / with ${r.rss.demos ?? 200} live demos (200 launched)`, `${r.rss.idleMb} / ${r.rss.at200Mb} MB`, `${r.rss.demos ?? 200} demos ready after ${round((r.rss.allReadyAfterMs ?? 0) / 1000)} s`, "target ≤ 80 MB"]);
  if (r.replacement) add("replacement", [`Replacement under load (${r.replacement.replacements} replacements, ${r.replacement.requestsPerSecond} req/s keep-alive + new connections)`, `p50 / p95 ${r.replacement.p50Ms} / ${r.replacement.p95Ms} ms to the new image served; ${r.replacement.failedRequests} failed, ${r.replacement.errors5xx} × 5xx of ${r.replacement.requests}`, `cold launch p50 ${r.replacement.coldLaunchP50Ms} ms`, `${r.replacement.ratio}× cold launch; target 0 failed, 0 × 5xx`]);
  if (results.previews) add("previews", ...previewRows(results.previews as PreviewResults));
  if (results.webhooks) add("webhooks", ...webhookRows(results.webhooks as WebhookResults));
  if (results.screenshots) add("screenshots", ...screenshotRows(results.screenshots as ScreenshotResults));
  if (results.tls) add("tls", ...tlsRows(results.tls as TlsResults));
  if (results.databases) add("databases", ...databaseRows(results.databases as DatabaseResults));
  if (results.environments) add("environments", ...environmentRows(results.environments as EnvironmentResults));
  if (results.metrics) add("metrics", ...metricsRows(results.metrics as MetricsResults));
  if (results.console) add("console", ...consoleRows(results.console as ConsoleResults));
  if (results.swarm) add("swarm", ...swarmRows(results.swarm as SwarmResults));
  if (results.memory) add("memory", ...memoryRows(results.memory as MemoryResults));
  if (results.package) add("package", ...packageRows(results.package as PackageResults));
  if (results.underLoad) add("underLoad", ...underLoadRows(results.underLoad as UnderLoadResults));
  if (results.starts) add("starts", ...startsRows(results.starts as StartsResults));
  if (results.deaths) add("deaths", ...deathRows(results.deaths as DeathResults));
  if (results.defences) add("defences", ...defenceRows(results.defences as DefenceResults));
  if (results.access) add("access", ...accessRows(results.access as AccessResults));
  if (r.reloadLoad) add("reloadLoad", [`Serving through ${r.reloadLoad.launches} launches + expiries (${r.reloadLoad.reloads} reloads)`, `${r.reloadLoad.requests} requests`, `${r.reloadLoad.errors5xx} × 5xx, ${r.reloadLoad.connectErrors} failed connects`, "target 0 and 0"]);
  return rows;
}

/** The table of a run, as the bench prints it. */
export function table(results: Results): string {
  return ["| measure | result | baseline (same run) | ratio / target |", "| --- | --- | --- | --- |", ...tableRows(results).map((row) => `| ${row.cells.join(" | ")} |`)].join("\n");
}
