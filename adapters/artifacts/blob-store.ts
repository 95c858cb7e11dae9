// Artifacts in an Azure Blob container, for workers that share no filesystem with the runs.
//
// Blob has no folders and no rename, so the FS store's guarantees are rebuilt from its own:
// a block blob becomes visible whole when its upload commits (one Put Blob, or Put Block List
// for big ones), and listing by "folder/" keeps `runs/a` from matching `runs/ab`. A folder is
// complete when its manifest.json exists (putFolder writes it last). Hashes are always taken
// from the bytes: the sha256 metadata we write is a hint for humans, not evidence.
//
// Tools that need real files get localFolder: a download into <cacheDir>/<sha256 of the
// manifest>, verified against the manifest while it is written into a temp folder and then
// renamed into place, so neither a crash nor two workers at once can leave a half folder
// under a name a later call trusts.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import type { ArtifactEntry, ArtifactStore, Manifest } from './port';
import { ArtifactIntegrityError, ArtifactLocationError, ArtifactNotFoundError } from './errors';
import { joinKey, keyOfUri, uriOfKey, validateKey, validatePrefix } from './keys';
import { MANIFEST, checkAgainstManifest, getIfExists, manifestKeyOf, parseManifest, relativeKey, verifyManifestOf, writeManifestOf } from './manifest';
import { filesOf, hashFile, sha256Of, type FileHash } from './local-files';
import { putFolderWith } from './put-folder';

export interface BlobRoot {
  account: string;
  container: string;
  /** Blob-name prefix of the store inside the container ('' = the whole container). */
  prefix: string;
  /** The normal spelling: azblob://account/container[/prefix], no trailing '/'. */
  rootUri: string;
}

// Azure's own naming rules: accounts 3-24 lowercase letters and digits; containers 3-63 of
// lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
const BLOB_ROOT = /^azblob:\/\/([a-z0-9]{3,24})\/([a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9])(?:\/(.*))?$/;

export function parseBlobRoot(uri: string): BlobRoot {
  const match = BLOB_ROOT.exec(uri);
  if (!match)
    throw new ArtifactLocationError(
      uri,
      'is not a valid azblob:// URI (account: 3-24 lowercase letters and digits; container: 3-63 lowercase letters, digits and hyphens)',
    );
  const [, account, container, rest = ''] = match as unknown as [string, string, string, string?];
  let prefix: string;
  try {
    prefix = validatePrefix(rest);
  } catch (error) {
    throw new ArtifactLocationError(uri, `has an unusable prefix: ${(error as Error).message}`);
  }
  return { account, container, prefix, rootUri: `azblob://${account}/${container}${prefix ? `/${prefix}` : ''}` };
}

export class BlobArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  readonly cacheDir: string;
  private readonly container: ContainerClient;
  private readonly prefix: string;

  constructor(options: { rootUri: string; containerClient: ContainerClient; cacheDir: string }) {
    const root = parseBlobRoot(options.rootUri);
    if (options.containerClient.containerName !== root.container) {
      throw new ArtifactLocationError(
        options.rootUri,
        `names container ${root.container}, but the client given is for ${options.containerClient.containerName}`,
      );
    }
    this.rootUri = root.rootUri;
    this.prefix = root.prefix;
    this.container = options.containerClient;
    this.cacheDir = options.cacheDir;
  }

  uriOf(key: string): string {
    return uriOfKey(this.rootUri, key);
  }

  keyOf(uri: string): string {
    return keyOfUri(this.rootUri, uri);
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactEntry> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const sha256 = sha256Of(bytes);
    await this.container.getBlockBlobClient(this.blobName(key)).uploadData(bytes, { metadata: { sha256 } });
    return { key, size: bytes.byteLength, sha256 };
  }

  async get(key: string): Promise<Buffer> {
    const blob = this.blob(key);
    try {
      return await blob.downloadToBuffer();
    } catch (error) {
      throw notFoundOr(error, key, blob);
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.blob(key).exists();
  }

  async list(prefix: string): Promise<string[]> {
    const folder = validatePrefix(prefix);
    const under = folder ? joinKey(this.prefix, folder) : this.prefix;
    const keys: string[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix: under ? `${under}/` : undefined, includeMetadata: true })) {
      // Folder placeholders of accounts with a hierarchical namespace are not files.
      if (item.metadata?.['hdi_isfolder'] === 'true') continue;
      const key = this.prefix ? item.name.slice(this.prefix.length + 1) : item.name;
      if (isPlainKey(key)) keys.push(key);
    }
    return keys.sort();
  }

  async sha256(key: string): Promise<string> {
    const blob = this.blob(key);
    try {
      return (await download(blob)).sha256;
    } catch (error) {
      throw notFoundOr(error, key, blob);
    }
  }

  writeManifest(prefix: string): Promise<Manifest> {
    return writeManifestOf(this, (key) => download(this.blob(key)), prefix);
  }

  verifyManifest(prefix: string): Promise<Manifest> {
    return verifyManifestOf(this, (key) => this.hashIfExists(key), prefix);
  }

  putFolder(localDir: string, prefix: string): Promise<Manifest> {
    return putFolderWith(
      {
        list: (p) => this.list(p),
        remove: async (key) => void (await this.blob(key).deleteIfExists()),
        putFile: async (key, path) => {
          const entry = { key, ...(await hashFile(path)) };
          await this.container.getBlockBlobClient(this.blobName(key)).uploadFile(path, { metadata: { sha256: entry.sha256 } });
          return entry;
        },
        put: (key, data) => this.put(key, data),
      },
      localDir,
      prefix,
    );
  }

  async localFolder(prefix: string): Promise<string> {
    const folder = validatePrefix(prefix);
    const manifestBytes = await getIfExists(this, manifestKeyOf(folder));
    await mkdir(this.cacheDir, { recursive: true });
    if (!manifestBytes) return this.downloadUnverified(folder, prefix);

    const manifest = parseManifest(folder, manifestBytes);
    const digest = sha256Of(manifestBytes);
    const cached = join(this.cacheDir, digest);
    if (await isFolder(cached)) {
      // Re-checked on every hit: a tool may have written into it, or a crash (files are not
      // fsynced) may have left it damaged. A damaged copy is moved aside and fetched again.
      try {
        await checkLocalCopy(cached, manifest, digest);
        return cached;
      } catch (error) {
        if (!(error instanceof ArtifactIntegrityError)) throw error;
        const aside = `${cached}.damaged-${process.pid}-${randomBytes(4).toString('hex')}`;
        await rename(cached, aside).catch(() => {});
        await rm(aside, { recursive: true, force: true });
      }
    }

    const temp = join(this.cacheDir, `.partial-${digest}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const hashes = new Map<string, FileHash | undefined>();
      for (const entry of manifest.files) {
        hashes.set(entry.key, await this.downloadIfExists(entry.key, join(temp, relativeKey(entry.key, folder))));
      }
      await checkAgainstManifest(manifest, async (key) => hashes.get(key), await this.list(folder));
      await writeNewFile(join(temp, MANIFEST), manifestBytes);
      try {
        await rename(temp, cached);
      } catch (error) {
        // Another caller published the same manifest first; its copy was verified like ours.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return cached;
  }

  /** No manifest, nothing to verify or to key a cache by: a fresh copy each time. */
  private async downloadUnverified(folder: string, prefix: string): Promise<string> {
    const keys = await this.list(folder);
    if (keys.length === 0) throw new ArtifactNotFoundError(prefix, joinKey(this.rootUri, folder));
    const target = join(this.cacheDir, 'unverified', `${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      for (const key of keys) {
        if (!(await this.downloadIfExists(key, join(target, relativeKey(key, folder))))) throw new ArtifactNotFoundError(key, this.blob(key).url);
      }
    } catch (error) {
      await rm(target, { recursive: true, force: true });
      throw error;
    }
    return target;
  }

  private async downloadIfExists(key: string, path: string): Promise<FileHash | undefined> {
    try {
      return await download(this.blob(key), path);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async hashIfExists(key: string): Promise<FileHash | undefined> {
    try {
      return await download(this.blob(key));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private blobName(key: string): string {
    return joinKey(this.prefix, validateKey(key));
  }

  private blob(key: string): BlobClient {
    return this.container.getBlobClient(this.blobName(key));
  }
}

/** Streams a blob through sha256, into a new file at `path` when given. */
async function download(blob: BlobClient, path?: string): Promise<FileHash> {
  const response = await blob.download(0, undefined, { maxRetryRequests: 5 });
  const hash = createHash('sha256');
  let size = 0;
  if (path) await mkdir(dirname(path), { recursive: true });
  const file = path ? await open(path, 'wx', 0o644) : undefined;
  try {
    for await (const chunk of response.readableStreamBody!) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      size += bytes.length;
      if (file) await file.write(bytes);
    }
  } finally {
    await file?.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** A cached copy must hold exactly the manifest's files with their hashes, and the manifest itself. */
async function checkLocalCopy(dir: string, manifest: Manifest, digest: string): Promise<void> {
  const local = await filesOf(dir);
  const byKey = new Map(local.map((f) => [joinKey(manifest.prefix, f.rel), f.path]));
  const manifestPath = byKey.get(manifestKeyOf(manifest.prefix));
  if (!manifestPath || (await hashFile(manifestPath)).sha256 !== digest) {
    throw new ArtifactIntegrityError(manifest.prefix, [], [], [], `the cached copy in ${dir} has a different ${MANIFEST}`);
  }
  await checkAgainstManifest(manifest, async (key) => (byKey.has(key) ? hashFile(byKey.get(key)!) : undefined), [...byKey.keys()]);
}

async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'wx', 0o644);
  try {
    await file.writeFile(bytes);
  } finally {
    await file.close();
  }
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Names this store can hand out as keys: valid ones, which excludes keys.ts TEMP_NAME. */
function isPlainKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch {
    return false;
  }
}

function isStatus(error: unknown, status: number): boolean {
  return (error as { statusCode?: number }).statusCode === status;
}

function notFoundOr(error: unknown, key: string, blob: BlobClient): unknown {
  return isStatus(error, 404) ? new ArtifactNotFoundError(key, blob.url, { cause: error }) : error;
}
