import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Six projects. Unit tests live beside the code; the rest under test/ and
// need what scripts/services.sh starts (npm test starts it). Projects run in parallel within a
// group (sequence.groupOrder), groups one after the other: the chaos run takes the shared SLURM
// node down (NODE_FAIL) and keeps it busy, so it shares group 0 only with the projects that
// never touch the cluster, and the integration and e2e suites start once it is over.
export default defineConfig({
  test: {
    // vitest's default, one worker fewer than the cores, is a single worker on a 2-vCPU machine,
    // and every file then ran one after another: the 4-minute chaos run alone, then the unit tests
    // alone. Most of the chaos run waits on its services, so at least two run side by side.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      // 30 s, not vitest's 5: beside the chaos run on 2 vCPUs, a test that opens an embedded PGlite
      // registry (its WASM start and migrations) took over 5 s.
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['{config,domain,adapters,activities,cli,workers,workflows,bench}/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // Time-skipping test server; the workflow bundle is built once per file.
      { test: { name: 'workflow', sequence: { groupOrder: 0 }, include: ['test/workflows/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      // Captured histories (test/replay/histories) replayed against the current bundle: no server.
      { test: { name: 'replay', sequence: { groupOrder: 0 }, include: ['test/replay/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      // Its own Temporal, PostgreSQL and sshd (bench/chaos/stack.ts), the shared SLURM node.
      { test: { name: 'chaos', sequence: { groupOrder: 0 }, include: ['test/e2e/chaos.test.ts'], testTimeout: 900_000, hookTimeout: 300_000 } },
      // Real sshd, SLURM, PostgreSQL, PGlite and ONNX files. Serial: they share one cluster.
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/chaos.test.ts', '**/node_modules/**'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
