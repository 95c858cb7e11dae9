// Build the adapters activities need, from config. One set per process: the registry is
// opened once, each cluster gets one pooled SSH connection and one watcher.
import { Client, Connection } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { UnknownClusterError } from '../activities/errors';
import { FsArtifactStore } from '../adapters/artifacts/fs-store';
import { openRegistry } from '../adapters/db/open';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import { createExecutor } from '../adapters/slurm';
import type { ClusterExecutor } from '../adapters/slurm/port';
import type { MlcConfig } from '../temporal.config';

export interface ProcessDeps extends ActivityDeps {
  connection: Connection;
  close(): Promise<void>;
}

export async function buildDeps(config: MlcConfig): Promise<ProcessDeps> {
  const registry = await openRegistry({ databaseUrl: config.databaseUrl, dataDir: config.paths.data });
  const store = new FsArtifactStore(config.paths.artifacts);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const executors = new Map<string, ClusterExecutor>();
  const executor = (name: string) => {
    const clusterConfig = config.clusters[name];
    if (!clusterConfig) throw new UnknownClusterError(name, Object.keys(config.clusters));
    const existing = executors.get(name);
    if (existing) return existing;
    const created = createExecutor(clusterConfig);
    executors.set(name, created);
    return created;
  };
  return {
    config, registry, store, executor, loadScorer, temporal, connection,
    endpointUrl: `http://${config.endpoint.host}:${config.endpoint.port}`,
    async close() {
      await Promise.allSettled([...executors.values()].map((e) => e.close()));
      await connection.close();
      await registry.close();
    },
  };
}
