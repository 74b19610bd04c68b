// Config fuzz: every leaf of a full config replaced by values of the wrong kind, unknown keys at every level,
// random bytes. Each bad file is refused with a ConfigError naming the key, never a crash.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { FULL, namesKey, refusal, unknownKeyFiles, wrongKindFiles } from "../support/config-fuzz.js";

describe("config fuzz", () => {
  it("accepts the full file it mutates", () => {
    expect(refusal(stringify(FULL))).toBe("accepted");
  });

  it("refuses a value of the wrong kind anywhere, naming that key", () => {
    const files = wrongKindFiles();
    const unnamed: string[] = [];
    for (const file of files) {
      const result = refusal(file.yaml);
      if (result === "accepted") unnamed.push(`${file.key} = ${JSON.stringify(file.value)} was accepted`);
      else if (!namesKey(result, file.key)) unnamed.push(`${file.key} = ${JSON.stringify(file.value)}: ${result.message}`);
    }
    expect(unnamed).toEqual([]);
    expect(files.length).toBeGreaterThan(150);
  });

  it("refuses an unknown key at every level, naming it and the allowed keys", () => {
    for (const file of unknownKeyFiles()) {
      const result = refusal(file.yaml);
      expect(result, file.key).not.toBe("accepted");
      const problem = (result as Exclude<typeof result, "accepted">).problems.find((entry) => entry.key === file.key);
      expect(problem?.message, file.key).toMatch(/^unknown key; allowed keys here: /);
    }
  });
  it("refuses random bytes and broken YAML with a ConfigError, never a crash", () => {
    let seed = 20261122;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ["apps:", "  hello:", "    port: ", "{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!binary ", "'", '"', "\t", "\n", "~", "0x", "1e999", "\u0000", "\uffff", "ports: {from: 9, to: 1}", "<<: *a"];
    for (let i = 0; i < 500; i += 1) {
      const text = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join("");
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))).toString("latin1");
      for (const yaml of [text, bytes]) {
        const result = refusal(yaml);
        if (result !== "accepted") expect(result.problems.filter((problem) => problem.key.length === 0 || problem.message.length === 0), JSON.stringify(yaml)).toEqual([]);
      }
    }
  });
});
