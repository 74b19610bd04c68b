// Who holds a namespace, from the lease records alone: held, free, lapsed, gone, and two controllers starting at once.
import { describe, expect, it } from "vitest";
import { decideLease, heldReason, leaseWinner, type LeaseRecord } from "../../src/core/state/namespace-lease.js";
import { chooseRunningConfig } from "../../src/cli/running-config.js";

const LEASE = 30_000;
const NOW = Date.parse("2026-12-05T20:00:00Z");
const record = (holder: string, since: number, renewedAt: number, extra: Partial<LeaseRecord> = {}): LeaseRecord => ({ id: `lease-${holder}-${renewedAt}`, namespace: "default", holder, address: `http://127.0.0.1:${holder === "a" ? 8081 : 8082}`, config: `/etc/${holder}.yaml`, hostname: "box", pid: holder === "a" ? 100 : 200, since, renewedAt, ...extra });
const alive = () => false;

describe("the namespace lease", () => {
  it("is free with no record, and held by another controller that renewed within the lease", () => {
    expect(decideLease([], "me", NOW, LEASE, alive)).toEqual({ kind: "free", stale: [] });
    const a = record("a", NOW - 3_600_000, NOW - 5_000);
    expect(decideLease([a], "me", NOW, LEASE, alive)).toEqual({ kind: "held", by: a });
    // Its older records do not make it lapsed: the newest renewal counts.
    expect(decideLease([record("a", NOW - 3_600_000, NOW - 60_000), a], "me", NOW, LEASE, alive)).toEqual({ kind: "held", by: a });
  });

  it("is free when the holder stopped renewing, or its process is gone from this host; their records are to remove", () => {
    const lapsed = record("a", NOW - 3_600_000, NOW - LEASE);
    expect(decideLease([lapsed], "me", NOW, LEASE, alive)).toEqual({ kind: "free", stale: [lapsed] });
    const killed = record("a", NOW - 3_600_000, NOW - 1_000);
    expect(decideLease([killed], "me", NOW, LEASE, (r) => r.pid === 100)).toEqual({ kind: "free", stale: [killed] });
    // Its own records never hold it back.
    expect(decideLease([record("me", NOW - 10, NOW - 10)], "me", NOW, LEASE, alive)).toEqual({ kind: "free", stale: [] });
  });

  it("goes to the earlier of two controllers that wrote at the same moment", () => {
    const a = record("a", NOW, NOW);
    const b = record("b", NOW, NOW);
    expect(leaseWinner([b, a], NOW, LEASE, alive)?.holder).toBe("a");
    expect(leaseWinner([record("b", NOW - 1, NOW), a], NOW, LEASE, alive)?.holder).toBe("b");
    expect(leaseWinner([record("a", NOW - 1, NOW - LEASE), b], NOW, LEASE, alive)?.holder).toBe("b");
  });

  it("says in one line who holds it, where, since when, and what to do", () => {
    const line = heldReason(record("a", NOW - 3_600_000, NOW - 5_000), NOW);
    expect(line).toBe('namespace "default" is held by the controller at http://127.0.0.1:8081 (config /etc/a.yaml, host box, pid 100) since 2026-12-05T19:00:00.000Z, renewed 5s ago; stop that one first, or give this config a namespace of its own (namespace: in the config)');
    expect(line).not.toContain("\n");
  });
});

describe("a command given no --config", () => {
  it("takes the file of the one controller running here, the default when one runs from it or none runs, and asks when several do", () => {
    const now = 100_000;
    expect(chooseRunningConfig([], now, "box")).toEqual({ kind: "defaults" });
    const one = record("a", 0, now - 5_000);
    expect(chooseRunningConfig([one], now, "box")).toEqual({ kind: "file", file: "/etc/a.yaml", holder: one });
    // Another machine's controller (a swarm), or a lease that lapsed, is not "running here".
    expect(chooseRunningConfig([record("a", 0, now - 5_000, { hostname: "elsewhere" }), record("b", 0, now - 60_000)], now, "box")).toEqual({ kind: "defaults" });
    expect(chooseRunningConfig([one, record("b", 0, now - 1_000, { config: "defaults" })], now, "box")).toEqual({ kind: "defaults" });
    expect(chooseRunningConfig([one, record("b", 0, now - 1_000)], now, "box")).toMatchObject({ kind: "several", holders: [{ config: "/etc/a.yaml" }, { config: "/etc/b.yaml" }] });
  });
});
