// Test runner settings: files run one at a time, because the integration tests share one Docker engine.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
    setupFiles: ["test/helpers/temp-cleanup.ts"],
  },
});
