import { defineConfig } from "vitest/config";

/**
 * The Chromium end-to-end tests (test/e2e): Node drives Debian's Chromium through playwright-core
 * against the service as `npm start` runs it, started once by the global setup on a free port
 * with fresh state. One file at a time: they share one service on a 2-core machine.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["./test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
