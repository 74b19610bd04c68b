// No file in src/ over 300 lines: past that a file holds more than one subject (split it where the subjects part).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith(".ts") ? [path.join(dir, entry.name)] : []));
}

describe("source files", () => {
  it(`are at most ${MAX_LINES} lines each`, () => {
    const long = sourceFiles("src").flatMap((file) => {
      const lines = readFileSync(file, "utf8").split("\n").length - 1;
      return lines > MAX_LINES ? [`${file}: ${lines} lines`] : [];
    });
    expect(long).toEqual([]);
  });
});
