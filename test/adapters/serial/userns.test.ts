// Demos in a user namespace (real dockerd with --userns-remap=default, in a network namespace of its own):
// the README's "User namespaces" way, checked end to end by the fault suite's scenario.
import { describe, expect, it } from "vitest";
import { userNamespaces } from "../../chaos/userns.js";

describe("demos in a user namespace (a private dockerd with userns-remap)", () => {
  it("launches and serves them, root inside is dockremap's uid outside, exec and snapshots work, doctor sees it", async () => {
    const lines: string[] = [];
    const [row] = await userNamespaces((line) => lines.push(line));
    expect(row, lines.join("\n")).toBeDefined();
    expect(row!.detail).not.toContain("FAILED");
    expect(row!.survived).toBe(1);
    expect(row!.detail).toMatch(/^root inside = uid \d{5,} outside \(dockremap \d+\+\d+\)/);
  }, 180_000);
});
