// The fault suite's rows and table: what was injected, what survived, what was lost; and the record of the last full
// run of each scenario (test/chaos/record.json), which docs/operations/reliability.md is generated from.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readRecordFile, writeRecordFile } from "../support/records.js";
export interface Row {
  /** What went wrong on purpose. */
  fault: string;
  /** How many times it was done. */
  injected: number;
  /** How many of those ended with every check holding. */
  survived: number;
  /** Demos, routes, files or visitor data lost or left behind: must be 0. */
  lost: number;
  /** Figures worth reading (downtime, counts), and every failed check. */
  detail: string;
}

export function formatTable(rows: Row[]): string {
  const header = ["fault", "injected", "survived", "lost", "detail"];
  const cells = rows.map((row) => [row.fault, String(row.injected), String(row.survived), String(row.lost), row.detail]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => (column === 4 ? 0 : line[column]!.length))));
  const line = (values: string[]) => `| ${values.map((value, column) => (column === 4 ? value : value.padEnd(widths[column]!))).join(" | ")} |`;
  return [line(header), `| ${widths.map((width, column) => "-".repeat(column === 4 ? 6 : width)).join(" | ")} |`, ...cells.map(line)].join("\n");
}

/** Collects failed checks for one row without stopping the scenario: the table shows all of them. */
export class Checks {
  readonly failures: string[] = [];

  that(ok: boolean, what: string): boolean {
    if (!ok) this.failures.push(what);
    return ok;
  }

  /** The failed checks, for the end of a row's detail ("" when every check held). */
  summary(): string {
    return this.failures.length ? `; FAILED: ${this.failures.slice(0, 5).join("; ")}` : "";
  }
}

export const RECORD_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "record.json");

/** Each scenario's rows as its last full (not --quick) run left them, with when and how long it took. */
export interface ChaosRecord {
  scenarios: Record<string, { at: string; seconds: number; rows: Row[] }>;
}

export function readRecord(file = RECORD_FILE): Promise<ChaosRecord> {
  return readRecordFile<ChaosRecord>(file, { scenarios: {} });
}

export function writeRecord(record: ChaosRecord, file = RECORD_FILE): Promise<void> {
  return writeRecordFile(file, record);
}
