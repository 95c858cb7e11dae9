import { defineConfig } from 'vitest/config';

// Five projects, cheapest first. Unit tests live beside the code; the rest under test/ and
// need what scripts/services.sh starts (npm test starts it).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['{config,domain,adapters,activities,cli,workers,workflows}/**/*.test.ts'] } },
      // Time-skipping test server; the workflow bundle is built once per file.
      { test: { name: 'workflow', include: ['test/workflows/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      // Captured histories (test/replay/histories) replayed against the current bundle: no server.
      { test: { name: 'replay', include: ['test/replay/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      // Real sshd, SLURM, PostgreSQL, PGlite and ONNX files. Serial: they share one cluster.
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 300_000, fileParallelism: false } },
    ],
  },
});
