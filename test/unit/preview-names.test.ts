// Unit tests of preview host labels: valid DNS labels, stable, never shared by two branches or taken for a visitor id.
import { describe, expect, it } from "vitest";
import { ID_PATTERN } from "../../src/core/routing/naming.js";
import { branchLabel, commitLabel } from "../../src/core/previews/preview-names.js";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

describe("preview host labels", () => {
  it("keeps a plain branch name as it is, and a commit as its first 12 digits", () => {
    expect(branchLabel("web", "main")).toBe("web-main");
    expect(branchLabel("web", "release-2")).toBe("web-release-2");
    expect(commitLabel("web", "0123456789abcdef0123456789abcdef01234567")).toBe("web-commit-0123456789ab");
  });

  it("adds a hash of the exact name when the label loses anything, so two branches never share a host", () => {
    const labels = ["feature/login", "feature-login", "Feature/Login", "feature_login", "feature--login"].map((branch) => branchLabel("web", branch));
    expect(labels[1]).toBe("web-feature-login");
    expect(labels[0]).toMatch(/^web-feature-login-[0-9a-f]{7}$/);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it("cuts long names to 63 characters with the hash, and never makes a commit label out of a branch", () => {
    const long = `feature/${"very-long-name-".repeat(10)}`;
    expect(branchLabel("web", long).length).toBeLessThanOrEqual(63);
    expect(branchLabel("web", long)).not.toBe(branchLabel("web", `${long}x`));
    expect(branchLabel("web", "commit-0123456789ab")).not.toBe(commitLabel("web", "0123456789ab"));
    expect(branchLabel("web", "commit-0123456789ab")).toMatch(/^web-commit-0123456789ab-[0-9a-f]{7}$/);
    expect(branchLabel("web", "///")).toMatch(/^web-[0-9a-f]{7}$/);
  });

  it("makes valid DNS labels that are never a visitor id", () => {
    for (const branch of ["main", "feature/login", "ÜBER/ß", "a".repeat(200), "-x-", "v1.2.3", "commit-abc"]) {
      const label = branchLabel("web", branch);
      expect(label).toMatch(DNS_LABEL);
      expect(ID_PATTERN.test(label)).toBe(false);
    }
    expect(ID_PATTERN.test(commitLabel("web", "abcdef1"))).toBe(false);
  });
});
