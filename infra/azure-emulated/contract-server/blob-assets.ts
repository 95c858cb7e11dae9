// Where a code or model asset's files are, and fetching them, as Azure ML's storage
// initializer does before the inference server starts. An asset URI is either a blob folder
// URL under the storage account (http://127.0.0.1:<port>/devstoreaccount1/<container>/<path>
// with Azurite; https://<account>.blob.core.windows.net/<container>/<path> in Azure) or a
// datastore URI (azureml://datastores/<name>/paths/<path>, or its long form with
// subscriptions/…/workspaces/<ws>/ in front).
import type { BlobServiceClient } from '@azure/storage-blob';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';

export interface BlobFolder {
  container: string;
  /** Path inside the container, without leading or trailing slashes. */
  path: string;
}

export class AssetUriError extends Error {
  override name = 'AssetUriError';
}

export function resolveAssetUri(uri: string, blobEndpoint: string, datastoreContainer: (name: string) => string | undefined): BlobFolder {
  const trimmed = uri.trim();
  const base = blobEndpoint.replace(/\/+$/, '');
  if (/^https?:\/\//i.test(trimmed)) {
    if (!trimmed.toLowerCase().startsWith(`${base.toLowerCase()}/`)) {
      throw new AssetUriError(`${uri} is not in the workspace's storage account (${base}/...)`);
    }
    const [container, ...rest] = decodeURIComponent(trimmed.slice(base.length + 1).split('?')[0]!).split('/');
    return folder(uri, container, rest.join('/'));
  }
  const m = /^azureml:\/\/(?:subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.+)$/i.exec(trimmed);
  if (m) {
    const container = datastoreContainer(m[1]!);
    if (!container) throw new AssetUriError(`${uri} names datastore ${m[1]}, which the workspace does not have`);
    return folder(uri, container, m[2]!);
  }
  throw new AssetUriError(`${uri} is neither a blob URL under ${base}/ nor an azureml://datastores/<name>/paths/<path> URI`);
}

function folder(uri: string, container: string | undefined, path: string): BlobFolder {
  if (!container) throw new AssetUriError(`${uri} names no container`);
  return { container, path: path.replace(/^\/+|\/+$/g, '') };
}

/**
 * Copy every blob under `from` into `to`, keeping relative paths; a URI naming one blob
 * fetches that file. Returns the relative paths written.
 */
export async function downloadFolder(service: BlobServiceClient, from: BlobFolder, to: string, log: (line: string) => void): Promise<string[]> {
  const container = service.getContainerClient(from.container);
  const prefix = from.path ? `${from.path}/` : '';
  const written: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix })) {
    const relative = blob.name.slice(prefix.length);
    written.push(await fetchBlob(relative, blob.name));
  }
  if (written.length === 0 && from.path) {
    const single = container.getBlobClient(from.path);
    if (await single.exists()) written.push(await fetchBlob(posix.basename(from.path), from.path));
  }
  if (written.length === 0) throw new AssetUriError(`no blobs under ${from.container}/${from.path}`);
  return written;

  async function fetchBlob(relative: string, name: string): Promise<string> {
    const target = resolve(to, ...relative.split('/'));
    if (!target.startsWith(resolve(to) + sep)) throw new AssetUriError(`blob ${name} would land outside the download folder`);
    await mkdir(dirname(target), { recursive: true });
    await container.getBlobClient(name).downloadToFile(target);
    log(`Downloaded ${from.container}/${name} to ${join(to, relative)}`);
    return relative;
  }
}
