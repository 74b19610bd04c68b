// The config and CLI references are generated (tools/reference-docs.ts, `npm run docs`) from the schema with its words
// and from the command line's definition: a key or command added, renamed or removed without `npm run docs` fails here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BEGIN, configKeys, END, GENERATED, schemaKeys, withGenerated } from "../../tools/reference-docs.js";
import { performanceFigures, reliabilityTable, RESULTS } from "../../tools/results-docs.js";

describe("the generated references", () => {
  it.each(GENERATED)("%s is what `npm run docs` makes of its source", (file, make) => {
    const text = readFileSync(file, "utf8");
    expect(text, `${file} has drifted from its source: run npm run docs`).toBe(withGenerated(text, make(), file));
  });

  it.each(RESULTS)("%s shows what is on record", async (file, make) => {
    const text = readFileSync(file, "utf8");
    expect(text, `${file} has drifted from its record: run npm run docs`).toBe(withGenerated(text, await make(), file));
  });

  it("dates each figure by its section's run and totals the fault suite (the checks can fail)", () => {
    const bench = performanceFigures({ sections: { warm: { at: "2026-12-06T03:00:00.000Z", machine: { cpus: 2, memoryGb: 24 }, result: { pool: 4, p50Ms: 5, p95Ms: 8 } } } });
    expect(bench).toContain("| Warm launch p50 / p95 (pool 4) | 5 / 8 ms | cold p50 ? ms | target p50 ≤ 30 ms | 2026-12-06 (`warm`) |");
    expect(bench).toContain("(2 cores, 24 GB)");
    expect(performanceFigures({ sections: {} })).toMatch(/No full run on record yet/);
    const row = (lost: number) => ({ fault: "f", injected: 3, survived: 3 - lost, lost, detail: "d" });
    const chaos = reliabilityTable({ scenarios: { kill: { at: "2026-12-06T03:00:00.000Z", seconds: 60, rows: [row(0), row(1)] } } });
    expect(chaos).toMatch(/^6 faults injected, 5 survived, 1 lost, over 2 rows\. Each scenario as its last full run left it: `kill` 2026-12-06 \(60 s\)\./);
  });

  it("finds every key of a schema, through maps, unions and defaults (the check can fail)", () => {
    const schema = z.strictObject({
      a: z.string().default("x"),
      b: z.strictObject({ c: z.number().optional(), d: z.enum(["p", "q"]) }).prefault({ d: "p" }),
      apps: z.record(z.string(), z.strictObject({ image: z.string() })),
    });
    expect(schemaKeys(schema).map((entry) => entry.key)).toEqual(["a", "b.c", "b.d", "apps.<name>.image"]);
    const rows = configKeys(schema, { a: "first", "b.c": "second", "b.d": "third", "apps.<name>.image": "fourth" });
    expect(rows.map((row) => [row.key, row.default])).toEqual([["a", "`x`"], ["b.c", "none"], ["b.d", "required"], ["apps.<name>.image", "required"]]);
    expect(rows[2]!.meaning).toBe("third; one of `p`, `q`");
    expect(() => configKeys(schema, { a: "first", "b.c": "second", "b.d": "third" })).toThrow(/no words for apps\.<name>\.image/);
    expect(() => configKeys(schema, { a: "first", "b.c": "second", "b.d": "third", "apps.<name>.image": "fourth", gone: "stale" })).toThrow(/the schema lacks: gone/);
  });

  it("replaces only the part between the markers", () => {
    expect(withGenerated(`intro\n${BEGIN}\nold\n${END}\noutro\n`, "new", "x.md")).toBe(`intro\n${BEGIN}\n\nnew\n\n${END}\noutro\n`);
    expect(() => withGenerated("no markers", "new", "x.md")).toThrow(/x\.md has no generated part/);
  });
});
