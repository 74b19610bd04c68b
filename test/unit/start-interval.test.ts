// What the controller runs, and on which engines, when it probes a healthcheck at its start_interval itself.
import { describe, expect, it } from "vitest";
import { healthcheckOf } from "../../src/compose/service-fields.js";
import { apiAtLeast, probeArgv } from "../../src/docker/start-interval.js";

describe("a healthcheck's start_interval where the engine ignores it", () => {
  it("runs the test as Docker does: CMD's argv, CMD-SHELL through /bin/sh -c, nothing for NONE or no test", () => {
    expect(probeArgv(["CMD", "wget", "-q", "http://127.0.0.1/"])).toEqual(["wget", "-q", "http://127.0.0.1/"]);
    expect(probeArgv(["CMD-SHELL", "pg_isready -U app || exit 1"])).toEqual(["/bin/sh", "-c", "pg_isready -U app || exit 1"]);
    expect(probeArgv(["NONE"])).toEqual([]);
    expect(probeArgv([])).toEqual([]);
    expect(probeArgv(undefined)).toEqual([]);
  });

  it("is left to Docker from Engine API 1.44 (Docker 25) on", () => {
    expect(apiAtLeast("1.41", [1, 44])).toBe(false);
    expect(apiAtLeast("1.43", [1, 44])).toBe(false);
    expect(apiAtLeast("1.44", [1, 44])).toBe(true);
    expect(apiAtLeast("1.47", [1, 44])).toBe(true);
    expect(apiAtLeast("2.0", [1, 44])).toBe(true);
    expect(apiAtLeast(undefined, [1, 44])).toBe(false);
  });

  it("reads a healthcheck that only changes its start timing, keeping the image's test", () => {
    const problems: string[] = [];
    expect(healthcheckOf({ start_period: "1m", start_interval: "500ms" }, "services.db", problems)).toEqual({ test: [], startPeriodMs: 60_000, startIntervalMs: 500 });
    expect(healthcheckOf({}, "services.db", problems)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
