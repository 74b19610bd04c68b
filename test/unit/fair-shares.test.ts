// Fair shares: visitor keys keyed with a secret, IPv6 visitors by /64, and limits that hold per network.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { addressBytes, VisitorKeys } from "../../src/http/client.js";
import { setup } from "../support/engine-setup.js";

const keys = new VisitorKeys(Buffer.alloc(32, 7), { ipv4: 24, ipv6: 64 });

async function refusal(action: () => Promise<unknown>): Promise<DomainError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("visitor keys", () => {
  it("reads IPv4, IPv6, IPv4-mapped and zoned addresses, and refuses the rest", () => {
    expect(addressBytes("203.0.113.9")).toEqual([203, 0, 113, 9]);
    expect(addressBytes("::ffff:203.0.113.9")).toEqual([203, 0, 113, 9]);
    expect(addressBytes("2001:db8::1")).toEqual([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]);
    expect(addressBytes("fe80::1%eth0")?.[0]).toBe(0xfe);
    for (const bad of ["", "unknown", "1.2.3", "2001:db8::1::2", "1.2.3.4.5"]) expect(addressBytes(bad)).toBeUndefined();
  });

  it("gives one network to a /24 and one visitor to each IPv4 address", () => {
    const [netA, visitorA] = keys.of("203.0.113.1").split(".");
    const [netB, visitorB] = keys.of("203.0.113.200").split(".");
    const [netC] = keys.of("203.0.114.1").split(".");
    expect(netA).toBe(netB);
    expect(visitorA).not.toBe(visitorB);
    expect(netC).not.toBe(netA);
    // The same address through a dual-stack socket is the same visitor.
    expect(keys.of("::ffff:203.0.113.1")).toBe(keys.of("203.0.113.1"));
  });

  it("counts every address of one IPv6 /64 as one visitor", () => {
    expect(keys.of("2001:db8:1:2::1")).toBe(keys.of("2001:db8:1:2:ffff:ffff:ffff:fffe"));
    expect(keys.of("2001:db8:1:3::1")).not.toBe(keys.of("2001:db8:1:2::1"));
    const wide = new VisitorKeys(Buffer.alloc(32, 7), { ipv4: 24, ipv6: 48 });
    expect(wide.of("2001:db8:1:3::1").split(".")[0]).toBe(wide.of("2001:db8:1:2::1").split(".")[0]);
  });

  it("keeps no address: the key depends on the install's secret, and is not a plain hash of the address", async () => {
    const other = new VisitorKeys(Buffer.alloc(32, 8), { ipv4: 24, ipv6: 64 });
    expect(other.of("203.0.113.1")).not.toBe(keys.of("203.0.113.1"));
    const { createHash } = await import("node:crypto");
    const unsalted = createHash("sha256").update("demo-launcher:203.0.113.1").digest("hex");
    expect(keys.of("203.0.113.1")).not.toContain(unsalted.slice(0, 16));
    expect(keys.of("203.0.113.1")).toMatch(/^[0-9a-f]{16}\.[0-9a-f]{16}$/);
  });
});

describe("limits per network", () => {
  const perNetwork = { demos: 2, launches: 3 };
  const limits = { maxDemos: 10, perClient: 1, queueLength: 5, launchesPerClient: 5, launchWindow: 600_000, perNetwork };

  it("lets a network hold only its share of the demos, queued ones included, while other networks still launch", async () => {
    const { engine, scheduler } = setup({ limits });
    expect((await engine.launch("hello", "net1.a")).created).toBe(true);
    expect((await engine.launch("hello", "net1.b")).created).toBe(true);
    const refused = await refusal(() => engine.launch("hello", "net1.c"));
    expect(refused.data).toMatchObject({ code: "network-full", demos: 2 });
    expect((refused.data as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    // A visitor who already has a demo gets it back, as before.
    expect((await engine.launch("hello", "net1.a")).created).toBe(false);
    expect((await engine.launch("hello", "net2.a")).created).toBe(true);
  });

  it("limits how often one network launches, beside each visitor's own rate", async () => {
    const { engine, scheduler } = setup({ limits: { ...limits, launchesPerClient: 2 } });
    for (const visitor of ["a", "b", "c"]) {
      const { demo } = await engine.launch("hello", `net1.${visitor}`);
      await engine.stop(demo.id);
    }
    const refused = await refusal(() => engine.launch("hello", "net1.d"));
    expect(refused.data).toMatchObject({ code: "rate-limited", launches: 3, network: true });
    expect((await engine.launch("hello", "net2.d")).created).toBe(true);
  });

  it("never gives a network less than one visitor may have", async () => {
    const { engine, scheduler } = setup({ limits: { ...limits, perClient: 3, perNetwork: { demos: 1, launches: 1 } } });
    for (let i = 0; i < 3; i += 1) expect((await engine.launch("hello", "net1.a")).created).toBe(true);
    expect((await engine.launch("hello", "net1.a")).created).toBe(false);
  });
});

describe("disk floor and budgets", () => {
  it("refuses below the byte floor, below 5% of inodes, and takes the larger of 5% and 2 GiB by default", async () => {
    const { lowDisk, floorBytes, demosOverBudget } = await import("../../src/core/demos/disk.js");
    const GiB = 1024 ** 3;
    expect(floorBytes("default", 100 * GiB)).toBe(5 * GiB);
    expect(floorBytes("default", 10 * GiB)).toBe(2 * GiB);
    expect(floorBytes({ percent: 10 }, 100 * GiB)).toBe(10 * GiB);
    expect(lowDisk({ freeBytes: 6 * GiB, totalBytes: 100 * GiB }, "default")).toBeUndefined();
    expect(lowDisk({ freeBytes: 4 * GiB, totalBytes: 100 * GiB }, "default")).toEqual({ freeBytes: 4 * GiB, floorBytes: 5 * GiB });
    expect(lowDisk({ freeBytes: 50 * GiB, totalBytes: 100 * GiB, freeInodes: 40, totalInodes: 1000 }, "default")?.freeInodes).toBe(40);
    expect(lowDisk(undefined, "default")).toBeUndefined();
    const demo = (id: string, containerId: string) => ({ id, instances: [{ containerId }] }) as never;
    const over = demosOverBudget([demo("a", "c1"), demo("b", "c2")], new Map([["c1", 2 * GiB], ["c2", 10]]), () => GiB);
    expect(over.map((entry) => entry.writtenBytes)).toEqual([2 * GiB]);
  });
});
