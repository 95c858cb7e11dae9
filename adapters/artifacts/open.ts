// One setting (MLC_ARTIFACTS_ROOT) picks the store: a folder path or file:// URL for the NFS
// mount or .data, azblob://account/container/prefix for Azure Blob. Workers call this and
// never name a store class, so switching storage is a configuration change.
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { fileURLToPath } from 'node:url';
import { BlobArtifactStore, parseBlobRoot } from './blob-store';
import { ArtifactLocationError } from './errors';
import { FsArtifactStore } from './fs-store';
import type { ArtifactStore } from './port';

export interface OpenArtifactStoreOptions {
  /** Where the Blob store keeps downloads for localFolder (unused by the filesystem store). */
  cacheDir: string;
  blob?: {
    /** Service URL instead of https://<account>.blob.core.windows.net, e.g. Azurite's http://127.0.0.1:PORT/devstoreaccount1. */
    endpoint?: string;
    /** Wins over credential when given (Azurite, or a key-based account); it carries its own endpoint. */
    connectionString?: string;
    /** e.g. @azure/identity's DefaultAzureCredential (managed identity in production). */
    credential?: TokenCredential;
  };
}

export async function openArtifactStore(location: string, options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  if (location.startsWith('azblob://')) return openBlobStore(location, options);
  if (location.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(location);
    } catch (error) {
      throw new ArtifactLocationError(location, `is not a usable file:// URL (${(error as Error).message})`);
    }
    return new FsArtifactStore(path);
  }
  // Any other scheme (s3://, https://, azblob:/ typos) must not quietly become a relative folder.
  if (location.trim() === '' || /^[a-z][a-z0-9+.-]+:/i.test(location)) {
    throw new ArtifactLocationError(location, 'is neither a folder path nor a supported URL');
  }
  return new FsArtifactStore(location);
}

async function openBlobStore(location: string, options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  const root = parseBlobRoot(location);
  const { endpoint, connectionString, credential } = options.blob ?? {};
  let service: BlobServiceClient;
  if (connectionString) {
    service = BlobServiceClient.fromConnectionString(connectionString);
    // The account is in both the URI and the connection string; writing to the wrong one
    // would put runs where the registry's URIs do not point.
    if (service.accountName !== root.account) {
      throw new ArtifactLocationError(location, `names account ${root.account}, but the connection string is for ${service.accountName}`);
    }
    if (endpoint && trimSlash(service.url) !== trimSlash(endpoint)) {
      throw new ArtifactLocationError(location, `was given the endpoint ${endpoint}, but the connection string points at ${service.url}`);
    }
  } else if (credential) {
    service = new BlobServiceClient(endpoint ?? `https://${root.account}.blob.core.windows.net`, credential);
  } else {
    throw new ArtifactLocationError(location, 'is a Blob store, but no connection string or credential was given to reach it');
  }
  const containerClient = service.getContainerClient(root.container);
  try {
    await containerClient.createIfNotExists();
  } catch (error) {
    throw new Error(`could not open or create container ${root.container} at ${service.url}: ${(error as Error).message}`, { cause: error });
  }
  return new BlobArtifactStore({ rootUri: root.rootUri, containerClient, cacheDir: options.cacheDir });
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
