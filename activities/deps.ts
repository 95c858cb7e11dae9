// What activities need from the outside world, as ports. Workers build the adapters;
// tests can hand in real adapters pointed at temporary folders.
import type { Client } from '@temporalio/client';
import type { MlcConfig } from '../temporal.config';
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { Registry } from '../adapters/db/port';
import type { LoadScorer } from '../adapters/scoring/port';
import type { ClusterExecutor } from '../adapters/slurm/port';
import type { AzureMlDeployer } from '../adapters/azureml/deployer';

export interface ActivityDeps {
  config: MlcConfig;
  registry: Registry;
  store: ArtifactStore;
  /** The executor for a cluster named in a spec; throws UnknownClusterError for others. */
  executor: (cluster: string) => ClusterExecutor;
  loadScorer: LoadScorer;
  /** For Schedules (monitoring). */
  temporal: Client;
  /** Base URL of the built-in endpoint, to confirm a deployment is live. */
  endpointUrl: string;
  /** The deployer for a workspace named in a spec; throws UnknownWorkspaceError for others. */
  azureMl: (workspace: string) => AzureMlDeployer;
}
