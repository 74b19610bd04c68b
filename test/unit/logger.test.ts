// The console logger: text lines with the request id, or one JSON object a line with every fact as a key.
import { afterEach, describe, expect, it, vi } from "vitest";
import { consoleLogger } from "../../src/logger.js";

describe("consoleLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON object a line with the facts as keys, or a text line naming the request", () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, "warn").mockImplementation((line: string) => void out.push(line));
    consoleLogger("demo-launcher", "json").info("demo abc of hello ready in 0.31 s", { event: "ready", demo: "abc", requestId: "f00d" });
    consoleLogger("demo-launcher", "text").warn("demo abc of hello failed: it crashed", { requestId: "f00d" });
    const json = JSON.parse(out[0]!);
    expect(json).toMatchObject({ level: "info", source: "demo-launcher", msg: "demo abc of hello ready in 0.31 s", event: "ready", demo: "abc", requestId: "f00d" });
    expect(Number.isNaN(Date.parse(json.time))).toBe(false);
    expect(out[1]).toMatch(/^\S+ demo-launcher warn demo abc of hello failed: it crashed \[request f00d\]$/);
  });
});
