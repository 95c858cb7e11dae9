// Registry rows several tests start from, written once here.
import type { Registry } from '../../adapters/db/port';

/** Run "r1" (or `runKey`) of model "m" (generation 1, attempt 1), and, unless `version: false`, its version 1. */
export async function seedRun(registry: Registry, o: { runKey?: string; params?: Record<string, unknown>; version?: boolean } = {}): Promise<void> {
  const runKey = o.runKey ?? 'r1';
  await registry.createRun({
    runKey,
    model: 'm',
    generation: 1,
    attempt: 1,
    datasetHash: 'd',
    cluster: 'local',
    params: o.params ?? {},
    artifactUri: 'file:///r1',
  });
  if (o.version !== false) await registry.registerModelVersion({ model: 'm', runKey, artifactUri: 'file:///r1', sha256: 's', metrics: {} });
}
