// Clients for one configured workspace: the Resource Manager client of
// @azure/arm-machinelearning, and a Blob container client for the workspace's datastore.
// Credentials are built here, in the worker, from the configuration (never from a spec or a
// workflow input): DefaultAzureCredential's chain, or a token file for an emulator.
import { AzureMachineLearningWorkspaces, type AzureBlobDatastore } from '@azure/arm-machinelearning';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { readFileSync } from 'node:fs';
import type { WorkspaceConfig } from '../../config/schema';
import { AzureConfigError, fromAzure } from './errors';

export interface WorkspaceClients {
  config: WorkspaceConfig;
  arm: AzureMachineLearningWorkspaces;
  credential: TokenCredential;
  /** Extra CA for https calls this worker makes itself (scoring smoke tests). */
  ca?: string;
  datastore(): Promise<ContainerClient>;
  /** A container in the datastore's storage account (the request log). */
  container(name: string): Promise<ContainerClient>;
  /** ARM id of an asset in this workspace, e.g. models/thai-sentiment/versions/3. */
  assetId(path: string): string;
}

export function credentialFor(config: WorkspaceConfig): TokenCredential {
  if (config.credential.kind === 'default') return new DefaultAzureCredential();
  const file = config.credential.path;
  return {
    async getToken(): Promise<AccessToken> {
      let token: string;
      try {
        token = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new AzureConfigError(
          `the workspace's credential is a token file, ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code}); write the token there or switch credential.kind to "default"`,
        );
      }
      return { token, expiresOnTimestamp: Date.now() + 5 * 60_000 };
    },
  };
}

export function workspaceClients(config: WorkspaceConfig, env: NodeJS.ProcessEnv = process.env): WorkspaceClients {
  const credential = credentialFor(config);
  const ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  const arm = new AzureMachineLearningWorkspaces(credential, config.subscriptionId, {
    endpoint: config.armEndpoint,
    ...(ca && { tlsOptions: { ca } }),
  });
  let service: Promise<{ client: BlobServiceClient; datastoreContainer: string }> | undefined;
  const blobService = () =>
    (service ??= (async () => {
      let store: AzureBlobDatastore;
      try {
        store = (await arm.datastores.get(config.resourceGroup, config.workspace, config.datastore)).properties as AzureBlobDatastore;
      } catch (err) {
        throw fromAzure(`reading datastore ${config.datastore} of workspace ${config.workspace}`, err);
      }
      if (store.datastoreType !== 'AzureBlob' || !store.accountName || !store.containerName) {
        throw new AzureConfigError(
          `datastore ${config.datastore} of workspace ${config.workspace} is a ${store.datastoreType} datastore; packages need an Azure Blob datastore (set the workspace's datastore in the configuration)`,
        );
      }
      const connection = config.blobConnectionStringEnv ? env[config.blobConnectionStringEnv] : undefined;
      if (config.blobConnectionStringEnv && !connection) {
        throw new AzureConfigError(
          `the configuration says the storage connection string is in $${config.blobConnectionStringEnv}, which is not set in the worker's environment`,
        );
      }
      const url = config.blobEndpoint ?? `${store.protocol ?? 'https'}://${store.accountName}.blob.${store.endpoint ?? 'core.windows.net'}`;
      const client = connection ? BlobServiceClient.fromConnectionString(connection) : new BlobServiceClient(url, credential);
      return { client, datastoreContainer: store.containerName };
    })());
  const containerNamed = async (name: string) => {
    const container = (await blobService()).client.getContainerClient(name);
    await container.createIfNotExists();
    return container;
  };
  return {
    config,
    arm,
    credential,
    ca,
    async datastore() {
      return containerNamed((await blobService()).datastoreContainer);
    },
    container: containerNamed,
    assetId: (path) =>
      `/subscriptions/${config.subscriptionId}/resourceGroups/${config.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${config.workspace}/${path}`,
  };
}
