// Unit tests of the DNS-01 wait on the manual clock: every authoritative server must serve the value before the ACME
// server is told to look; a lagging one is waited for, and named when it never catches up.
import { describe, expect, it } from "vitest";
import { DnsNotVisible, waitUntilVisible, type TxtLookup } from "../../src/core/tls/dns-challenge.js";
import { ManualScheduler } from "../../src/core/scheduler.js";

describe("waiting for a DNS-01 record", () => {
  it("asks every server again until each serves the value, then stops asking", async () => {
    const scheduler = new ManualScheduler();
    const asked: string[] = [];
    // The secondary catches up on its third answer; a lookup that fails counts as not there yet.
    let secondaryAnswers = 0;
    const lookup: TxtLookup = async (server) => {
      asked.push(server);
      if (server === "ns1") return ["other", "v"];
      secondaryAnswers += 1;
      if (secondaryAnswers === 1) throw new Error("ETIMEOUT");
      return secondaryAnswers >= 3 ? ["v"] : [];
    };
    await scheduler.runUntil(waitUntilVisible(lookup, ["ns1", "ns2"], "_acme-challenge.example.org", "v", scheduler, { everyMs: 2000 }));
    expect(asked).toEqual(["ns1", "ns2", "ns1", "ns2", "ns1", "ns2"]);
  });

  it("names the servers that never served it, and refuses a name with no server at all", async () => {
    const scheduler = new ManualScheduler();
    const lookup: TxtLookup = async (server) => (server === "ns1" ? ["v"] : []);
    const waiting = waitUntilVisible(lookup, ["ns1", "ns2", "ns3"], "_acme-challenge.example.org", "v", scheduler, { everyMs: 1000, timeoutMs: 10_000 });
    await expect(scheduler.runUntil(waiting)).rejects.toEqual(new DnsNotVisible("the TXT record _acme-challenge.example.org is not served by ns2, ns3 after 10 s"));
    await expect(waitUntilVisible(lookup, [], "_acme-challenge.example.org", "v", scheduler)).rejects.toThrow("no authoritative server is known for _acme-challenge.example.org");
  });
});
