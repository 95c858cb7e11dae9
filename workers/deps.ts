// Build the adapters activities need, from config. One set per process: the registry is
// opened once, each cluster gets one pooled SSH connection and one watcher.
import { Client, Connection, type DataConverter } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { UnknownClusterError, UnknownWorkspaceError } from '../activities/errors';
import { workspaceClients } from '../adapters/azureml/client';
import { AzureMlDeployer } from '../adapters/azureml/deployer';
import { openConfiguredArtifactStore } from '../adapters/artifacts/from-config';
import { openRegistry } from '../adapters/db/open';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import { createExecutor } from '../adapters/slurm';
import { dataConverterFor } from '../adapters/temporal-codec/data-converter';
import type { ClusterExecutor } from '../adapters/slurm/port';
import type { MlcConfig } from '../temporal.config';

export interface ProcessDeps extends ActivityDeps {
  connection: Connection;
  /** The payload codec's converter: the activities' client and this process's workers share it. */
  dataConverter: DataConverter;
  close(): Promise<void>;
}

export async function buildDeps(config: MlcConfig): Promise<ProcessDeps> {
  const registry = await openRegistry({ databaseUrl: config.databaseUrl, dataDir: config.paths.data });
  const store = await openConfiguredArtifactStore(config);
  const dataConverter = await dataConverterFor(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
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
  const deployers = new Map<string, AzureMlDeployer>();
  const azureMl = (name: string) => {
    const workspace = config.workspaces[name];
    if (!workspace) throw new UnknownWorkspaceError(name, Object.keys(config.workspaces));
    let deployer = deployers.get(name);
    if (!deployer) deployers.set(name, (deployer = new AzureMlDeployer(workspaceClients(workspace))));
    return deployer;
  };
  return {
    config,
    registry,
    store,
    executor,
    loadScorer,
    temporal,
    connection,
    dataConverter,
    azureMl,
    endpointUrl: `http://${config.endpoint.host}:${config.endpoint.port}`,
    async close() {
      await Promise.allSettled([...executors.values()].map((e) => e.close()));
      await connection.close();
      await registry.close();
    },
  };
}
