// The problem types reference (docs/reference/problems.md) has a section per type, with the status and title the API sends.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { problemTypes } from "../../src/http/problem.js";

describe("the problem types reference", () => {
  it("has one section per problem type, with its status and title", () => {
    const page = readFileSync("docs/reference/problems.md", "utf8");
    const sections = new Map([...page.matchAll(/^## ([a-z-]+)\n`(\d{3})` "([^"]+)"/gm)].map((match) => [match[1]!, { status: Number(match[2]), title: match[3]! }]));
    expect(problemTypes().length).toBeGreaterThan(10);
    for (const { kind, status, title } of problemTypes()) expect(sections.get(kind), kind).toEqual({ status, title });
    expect([...sections.keys()].filter((kind) => !problemTypes().some((type) => type.kind === kind))).toEqual([]);
  });
});
