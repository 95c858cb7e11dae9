// The configured artifact store (paths.artifacts), opened the same way wherever it is needed:
// a Blob root authenticates with a connection string from the environment (an emulator, a
// key-based account) or else the process's Azure identity; neither ever enters a workflow.
import path from 'node:path';
import type { MlcConfig } from '../../temporal.config';
import { openArtifactStore } from './open';
import type { ArtifactStore } from './port';

export async function openConfiguredArtifactStore(config: MlcConfig): Promise<ArtifactStore> {
  const root = config.paths.artifacts;
  const blob = root.startsWith('azblob://')
    ? process.env.MLC_ARTIFACTS_CONNECTION_STRING
      ? { connectionString: process.env.MLC_ARTIFACTS_CONNECTION_STRING }
      : { credential: new (await import('@azure/identity')).DefaultAzureCredential() }
    : undefined;
  return openArtifactStore(root, { cacheDir: path.join(config.paths.data, 'cache', 'artifacts'), ...(blob && { blob }) });
}
