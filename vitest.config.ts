import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Tests run inside workerd with the bindings from wrangler.toml and a real local D1. */
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Test-only values; the real secret lives in .dev.vars / `wrangler secret`.
          bindings: {
            TEST_MIGRATIONS: migrations,
            JWT_SECRET: "test-only-secret-not-used-anywhere-else",
            // As `npm start` runs: the dev mailbox delivers messages (production's default is none).
            ENVIRONMENT: "development",
            // Small enough for test/live.test.ts to reach it with real sockets (wrangler.toml: 2000).
            MAX_LIVE_CONNECTIONS_PER_SESSION: "3",
            MAX_LIVE_CONNECTIONS_PER_CLIENT: "2",
            // Tests change the catalog straight in D1 between requests: no Worker-side caching
            // (test/edge-cache.test.ts tests the caches themselves).
            CATALOG_CACHE_MS: "0",
            FULL_SESSION_CACHE_MS: "0",
            // Most tests book many seats from one address ("unknown": no CF-Connecting-IP): the share
            // and window caps are off here, and test/hostage.test.ts runs with wrangler.toml's values.
            SEAT_SHARE_PER_SESSION_PERCENT: "100",
            MAX_SEATS_PER_CLIENT_PER_WINDOW: "1000000",
            MAX_SEATS_PER_EMAIL_PER_WINDOW: "1000000",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      // The per-request JSON log lines are for operators; keep test output readable.
      onConsoleLog: (log: string) => !log.includes('"msg":"request"'),
    },
  };
});
