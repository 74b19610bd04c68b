// Generates the figures of docs/operations/performance.md from the benchmark's record (bench/results/record.json) and
// the table of docs/operations/reliability.md from the fault suite's (test/chaos/record.json), between markers.
// A full `npm run bench` or `npm run chaos` updates its record; `npm run docs` then rewrites the pages: no figure is
// edited by hand. test/unit/reference-drift.test.ts fails when a page differs from what its record makes.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readRecord as readBenchRecord, resultsOf, tableRows, type BenchRecord } from "../bench/report.js";
import { formatTable, readRecord as readChaosRecord, type ChaosRecord } from "../test/chaos/report.js";
import { ROOT, withGenerated } from "./reference-docs.js";

const day = (iso: string) => iso.slice(0, 10);

/** The benchmark's table on record, each row with the day its section last ran in full. */
export function performanceFigures(record: BenchRecord): string {
  const rows = tableRows(resultsOf(record));
  if (rows.length === 0) return "No full run on record yet: run `npm run bench`, then `npm run docs`.";
  const machines = new Set(Object.values(record.sections).map((entry) => JSON.stringify(entry.machine)));
  const machine = machines.size === 1 ? (JSON.parse([...machines][0]!) as { cpus?: number; memoryGb?: number }) : undefined;
  const lines = rows.map((row) => `| ${[...row.cells, `${day(record.sections[row.key]!.at)} (\`${row.key}\`)`].join(" | ")} |`);
  return [
    `Each row as the last full run of its section measured it${machine ? ` (${machine.cpus} cores, ${machine.memoryGb} GB)` : ""}; ratios compare with a baseline measured in the same run.`,
    "",
    "| measure | result | baseline (same run) | ratio / target | measured (section) |",
    "| --- | --- | --- | --- | --- |",
    ...lines,
  ].join("\n");
}

/** The fault suite's table on record, scenario by scenario, with its totals. */
export function reliabilityTable(record: ChaosRecord): string {
  const scenarios = Object.entries(record.scenarios);
  if (scenarios.length === 0) return "No full run on record yet: run `npm run chaos`, then `npm run docs`.";
  const rows = scenarios.flatMap(([, entry]) => entry.rows);
  const total = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((sum, row) => sum + pick(row), 0);
  const runs = scenarios.map(([name, entry]) => `\`${name}\` ${day(entry.at)} (${entry.seconds} s)`).join(", ");
  return [
    `${total((row) => row.injected)} faults injected, ${total((row) => row.survived)} survived, ${total((row) => row.lost)} lost, over ${rows.length} rows. Each scenario as its last full run left it: ${runs}.`,
    "",
    formatTable(rows),
  ].join("\n");
}

export const RESULTS: Array<[file: string, make: () => Promise<string>]> = [
  ["docs/operations/performance.md", async () => performanceFigures(await readBenchRecord())],
  ["docs/operations/reliability.md", async () => reliabilityTable(await readChaosRecord())],
];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, make] of RESULTS) {
    const full = path.join(ROOT, file);
    writeFileSync(full, withGenerated(readFileSync(full, "utf8"), await make(), file));
    console.log(`wrote ${file}`);
  }
}
