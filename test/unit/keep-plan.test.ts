// Which services a new instance of an environment keeps: unchanged ones stay, the routed one and what depends on a renewed service start anew, a changed database is stopped first.
import { describe, expect, it } from "vitest";
import { planKeeps, type RunningService, type WantedService } from "../../src/core/environments/keep-plan.js";

const wanted = (name: string, fingerprint: string, extra: Partial<WantedService> = {}): WantedService => ({ name, fingerprint, stateful: false, routed: false, dependsOn: [], ...extra });
const running = (service: string, fingerprint: string, usable = true): RunningService => ({ service, fingerprint, containerName: `old-${service}`, usable });

describe("planKeeps", () => {
  const services = [wanted("db", "d1", { stateful: true }), wanted("cache", "c1"), wanted("worker", "w1", { dependsOn: [{ service: "cache" }, { service: "db" }] }), wanted("web", "x1", { routed: true, dependsOn: [{ service: "db" }] })];

  it("keeps every unchanged member and never the routed service", () => {
    const plan = planKeeps(services, [running("db", "d1"), running("cache", "c1"), running("worker", "w1"), running("web", "x1")]);
    expect([...plan.keep.keys()]).toEqual(["db", "cache", "worker"]);
    expect(plan.stopFirst.size).toBe(0);
  });

  it("starts a changed member anew, and what depends on it, so the dependant connects to the new one", () => {
    const plan = planKeeps(services, [running("db", "d1"), running("cache", "c0"), running("worker", "w1")]);
    expect([...plan.keep.keys()]).toEqual(["db"]);
  });

  it("stops a changed stateful member before its new one starts (never two on one volume)", () => {
    const plan = planKeeps(services, [running("db", "d0"), running("cache", "c1"), running("worker", "w1")]);
    expect([...plan.keep.keys()]).toEqual(["cache"]);
    expect([...plan.stopFirst.values()].map((member) => member.containerName)).toEqual(["old-db"]);
  });

  it("starts anew a member that no longer runs (a crashed one), stopping it first when it holds a volume", () => {
    const plan = planKeeps(services, [running("db", "d1", false), running("cache", "c1", false), running("worker", "w1")]);
    expect([...plan.keep.keys()]).toEqual([]);
    expect([...plan.stopFirst.keys()]).toEqual(["db"]);
  });

  it("takes the newest container of a service when an earlier one is still there, and ignores services no longer in the file", () => {
    const plan = planKeeps([wanted("db", "d1", { stateful: true })], [running("db", "d1"), { ...running("db", "d0"), containerName: "older-db" }, running("gone", "g1")]);
    expect(plan.keep.get("db")?.containerName).toBe("old-db");
  });
});
