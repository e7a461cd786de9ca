import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the
// "skein-source" export condition, so tests never need a build step.
export default defineConfig({
  resolve: { conditions: ["skein-source"] },
  ssr: { resolve: { conditions: ["skein-source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
