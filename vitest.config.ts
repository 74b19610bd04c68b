// Test runner settings: five tiers as vitest projects (README, "Tests"). `unit` and `http` touch no Docker, nginx
// or real clock and run files in parallel; `adapters` checks each edge against the real thing, files in parallel
// (each its own namespace, port window and temp dir) but for those under serial/, which change what the whole
// host shares (iptables, Docker's demo networks, a second dockerd); `system` drives whole stacks, one file at a time; `package` installs the .deb in Debian containers.
import { defineConfig } from "vitest/config";

const slow = { testTimeout: 120_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    setupFiles: ["test/support/temp-cleanup.ts"],
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 10_000, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "http", include: ["test/http/**/*.test.ts"], testTimeout: 10_000, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "adapters", include: ["test/adapters/*.test.ts"], ...slow, maxWorkers: 2, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: "adapters-serial", include: ["test/adapters/serial/*.test.ts"], ...slow, fileParallelism: false, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: "system", include: ["test/system/**/*.test.ts"], ...slow, fileParallelism: false, sequence: { groupOrder: 3 } } },
      // The Debian package installed and upgraded in Debian containers (each its own), files in parallel.
      { extends: true, test: { name: "package", include: ["test/package/*.test.ts"], ...slow, maxWorkers: 2, sequence: { groupOrder: 4 } } },
    ],
  },
});
