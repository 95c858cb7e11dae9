// Build the adapters activities need, from config. One set per process: the registry is
// opened once, each cluster gets one pooled SSH connection and one watcher.
import { Client, Connection } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { UnknownClusterError, UnknownWorkspaceError } from '../activities/errors';
import { workspaceClients } from '../adapters/azureml/client';
import { AzureMlDeployer } from '../adapters/azureml/deployer';
import { DefaultAzureCredential } from '@azure/identity';
import path from 'node:path';
import { openArtifactStore } from '../adapters/artifacts/open';
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
  // A Blob root authenticates with a connection string from the environment (an emulator, a
  // key-based account) or else the worker's Azure identity; neither ever enters a workflow.
  const store = await openArtifactStore(config.paths.artifacts, {
    cacheDir: path.join(config.paths.data, 'cache', 'artifacts'),
    ...(config.paths.artifacts.startsWith('azblob://') && {
      blob: process.env.MLC_ARTIFACTS_CONNECTION_STRING
        ? { connectionString: process.env.MLC_ARTIFACTS_CONNECTION_STRING }
        : { credential: new DefaultAzureCredential() },
    }),
  });
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
    azureMl,
    endpointUrl: `http://${config.endpoint.host}:${config.endpoint.port}`,
    async close() {
      await Promise.allSettled([...executors.values()].map((e) => e.close()));
      await connection.close();
      await registry.close();
    },
  };
}
