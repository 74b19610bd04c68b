// Unit tests of certificate renewal on the manual clock: when the next order comes (none installed, renewBefore, back-off
// after failures that still leaves tries before the end), and the manager keeping the old certificate while orders fail.
import { describe, expect, it } from "vitest";
import { nextOrderAt, expiryWarning, RETRY_FIRST_MS } from "../../src/core/tls/renewal.js";
import { CertificateManager } from "../../src/tls/certificate-manager.js";
import type { IssuedCertificate } from "../../src/tls/acme-issuer.js";
import { ManualScheduler } from "../../src/core/scheduler.js";

const DAY = 86_400_000;

describe("when a certificate is ordered", () => {
  it("orders at once without one, at renewBefore its end, and backs off after failures without passing its end", () => {
    const now = 1_000_000;
    expect(nextOrderAt({ now, renewBeforeMs: 30 * DAY, failures: 0 })).toBe(now);
    expect(nextOrderAt({ now, notAfter: now + 90 * DAY, renewBeforeMs: 30 * DAY, failures: 0 })).toBe(now + 60 * DAY);
    expect(nextOrderAt({ now, notAfter: now + 10 * DAY, renewBeforeMs: 30 * DAY, failures: 0 })).toBe(now);
    expect([1, 2, 3, 10, 40].map((failures) => nextOrderAt({ now, notAfter: now + 20 * DAY, renewBeforeMs: 30 * DAY, failures }) - now)).toEqual([RETRY_FIRST_MS, 2 * RETRY_FIRST_MS, 4 * RETRY_FIRST_MS, 6 * 3_600_000, 6 * 3_600_000]);
    // Two hours before its end a six-hour wait would miss it: the last try is an hour before.
    expect(nextOrderAt({ now, notAfter: now + 2 * 3_600_000, renewBeforeMs: 30 * DAY, failures: 9 })).toBe(now + 3_600_000);
    expect(nextOrderAt({ now, notAfter: now + 10 * 60_000, renewBeforeMs: 30 * DAY, failures: 9 })).toBe(now + RETRY_FIRST_MS);
  });

  it("warns once half the renewal window passed without a renewal, and after the end", () => {
    expect(expiryWarning(0, 20 * DAY, 30 * DAY)).toBeUndefined();
    expect(expiryWarning(0, 15 * DAY, 30 * DAY)).toBe("the certificate ends at 1970-01-16T00:00:00.000Z, in 15 day(s), and has not been renewed");
    expect(expiryWarning(16 * DAY, 15 * DAY, 30 * DAY)).toBe("the certificate ended at 1970-01-16T00:00:00.000Z: visitors see a browser warning");
    expect(expiryWarning(0, undefined, 30 * DAY)).toBeUndefined();
  });
});

describe("the certificate manager", () => {
  const logger = { info: () => {}, warn: () => {}, error: () => {} };

  it("orders when none is installed, renews at renewBefore, keeps the old one through failed orders, and backs off", async () => {
    const scheduler = new ManualScheduler(0);
    const ordersAt: number[] = [];
    let failNext = 0;
    const issue = (): IssuedCertificate => ({ certificate: "pem", key: "key", names: ["demo.example.org", "*.demo.example.org"], notAfter: new Date(scheduler.now() + 90 * DAY) });
    const manager = new CertificateManager({
      renewBeforeMs: 30 * DAY,
      scheduler,
      logger,
      installed: async () => undefined,
      order: async () => {
        ordersAt.push(scheduler.now());
        if (failNext > 0) {
          failNext -= 1;
          throw new Error("the certificate for demo.example.org was not issued: Service busy; retry later");
        }
        return issue();
      },
      install: async (issued) => ({ names: issued.names, issuer: "CN=Pebble Intermediate", notBefore: new Date(scheduler.now()), notAfter: issued.notAfter }),
    });
    await manager.start();
    await scheduler.advance(0);
    expect(ordersAt).toEqual([0]);
    const first = manager.status();
    expect(first).toMatchObject({ failures: 0, nextOrderAt: 60 * DAY, ordering: false });
    expect(first.certificate!.notAfter.getTime()).toBe(90 * DAY);

    // At renewal time the ACME server is away twice: the old certificate stays, the tries come 1 and 2 min apart.
    failNext = 2;
    await scheduler.advanceTo(60 * DAY);
    expect(manager.status()).toMatchObject({ failures: 1, lastError: { message: "the certificate for demo.example.org was not issued: Service busy; retry later", at: 60 * DAY }, nextOrderAt: 60 * DAY + RETRY_FIRST_MS });
    expect(manager.status().certificate!.notAfter.getTime()).toBe(90 * DAY);
    await scheduler.advance(RETRY_FIRST_MS + 2 * RETRY_FIRST_MS);
    expect(ordersAt).toEqual([0, 60 * DAY, 60 * DAY + RETRY_FIRST_MS, 60 * DAY + 3 * RETRY_FIRST_MS]);
    expect(manager.status()).toMatchObject({ failures: 0, nextOrderAt: 60 * DAY + 3 * RETRY_FIRST_MS + 60 * DAY });
    expect(manager.status().lastError).toBeUndefined();
    await manager.close();
  });
});
