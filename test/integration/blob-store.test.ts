// The Blob store, write-once uploads and openArtifactStore against a real Blob service:
// Azurite, Microsoft's emulator, started as the README's scripts start it. The store runs
// the same contract as the FS store, then what only Blob has: a download cache that must
// never trust a half folder, metadata that must never be trusted for hashes, a root prefix.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobArtifactStore } from '../../adapters/artifacts/blob-store';
import { ArtifactIntegrityError, ArtifactLocationError, WriteOnceConflictError } from '../../adapters/artifacts/errors';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openArtifactStore, type OpenArtifactStoreOptions } from '../../adapters/artifacts/open';
import { describeArtifactStoreContract } from '../../adapters/artifacts/store-contract';
import { uploadWriteOnce, type WriteOnceProgress } from '../../adapters/artifacts/write-once';
import { DEV_ACCOUNT, startAzurite, type Azurite } from '../../infra/azure-emulated/azurite';

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const containerName = () => `t-${randomBytes(6).toString('hex')}`;

let azurite: Azurite;
let service: BlobServiceClient;
beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
});
afterAll(async () => {
  await azurite?.stop();
});

/** A store on a fresh container, rooted below a prefix so the prefix mapping is exercised too. */
async function blobStore(prefix = 'mlc') {
  const container = service.getContainerClient(containerName());
  await container.create();
  const cacheDir = await mkdtemp(join(tmpdir(), 'mlc-blob-cache-'));
  const store = new BlobArtifactStore({ rootUri: `azblob://${DEV_ACCOUNT}/${container.containerName}/${prefix}`, containerClient: container, cacheDir });
  return {
    store,
    container,
    cacheDir,
    remove: async (key: string) => void (await container.getBlobClient(`${prefix}/${key}`).delete()),
    cleanup: async () => {
      await container.deleteIfExists();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

describeArtifactStoreContract('BlobArtifactStore', () => blobStore());

describe('BlobArtifactStore on Blob', () => {
  let h: Awaited<ReturnType<typeof blobStore>>;
  let src: string;
  beforeEach(async () => {
    h = await blobStore();
    src = await mkdtemp(join(tmpdir(), 'mlc-blob-src-'));
    await writeFile(join(src, 'model.onnx'), 'weights');
    await mkdir(join(src, 'tokenizer'));
    await writeFile(join(src, 'tokenizer/vocab.txt'), 'a\nb\n');
  });
  afterEach(async () => {
    await h.cleanup();
    await rm(src, { recursive: true, force: true });
  });

  it('keeps its keys below the root prefix and lists nothing else', async () => {
    await h.store.put('runs/a.txt', 'x');
    for (const name of ['other/b.txt', 'mlcx/c.txt', 'mlc/runs/.a.txt.tmp-1-ab', 'mlc/runs//double']) {
      await h.container.getBlockBlobClient(name).uploadData(Buffer.from('planted'));
    }
    const names: string[] = [];
    for await (const item of h.container.listBlobsFlat()) names.push(item.name);
    expect(names).toContain('mlc/runs/a.txt');
    expect(await h.store.list('')).toEqual(['runs/a.txt']);
    expect(h.store.uriOf('runs/a.txt')).toBe(`azblob://${DEV_ACCOUNT}/${h.container.containerName}/mlc/runs/a.txt`);
  });

  it('writes sha256 metadata but hashes the bytes', async () => {
    await h.store.put('runs/r/model.onnx', 'weights');
    expect((await h.container.getBlobClient('mlc/runs/r/model.onnx').getProperties()).metadata).toMatchObject({ sha256: sha('weights') });
    await h.store.writeManifest('runs/r');
    // Tampered bytes that keep the old, "right" metadata.
    await h.container.getBlockBlobClient('mlc/runs/r/model.onnx').uploadData(Buffer.from('weightS'), { metadata: { sha256: sha('weights') } });
    expect(await h.store.sha256('runs/r/model.onnx')).toBe(sha('weightS'));
    await expect(h.store.verifyManifest('runs/r')).rejects.toMatchObject({ changed: ['runs/r/model.onnx'] });
  });

  it('serves a second localFolder from its cache, and re-fetches a damaged cache', async () => {
    await h.store.putFolder(src, 'runs/r');
    const first = await h.store.localFolder('runs/r');
    expect(first.startsWith(h.cacheDir)).toBe(true);
    // Changing the blob now does not reach the verified copy: the second call is a cache hit.
    await h.store.put('runs/r/model.onnx', 'changed');
    expect(await h.store.localFolder('runs/r')).toBe(first);
    expect(await readFile(join(first, 'model.onnx'), 'utf8')).toBe('weights');

    await h.store.put('runs/r/model.onnx', 'weights');
    await writeFile(join(first, 'model.onnx'), 'scribbled on by a tool');
    expect(await h.store.localFolder('runs/r')).toBe(first);
    expect(await readFile(join(first, 'model.onnx'), 'utf8')).toBe('weights');
  });

  it('lets concurrent callers share one published folder and leaves no temp folders', async () => {
    await h.store.putFolder(src, 'runs/r');
    const dirs = await Promise.all([1, 2, 3, 4].map(() => h.store.localFolder('runs/r')));
    expect(new Set(dirs).size).toBe(1);
    expect(await readFile(join(dirs[0]!, 'tokenizer/vocab.txt'), 'utf8')).toBe('a\nb\n');
    expect(await readdir(h.cacheDir)).toEqual([sha(await h.store.get('runs/r/manifest.json'))]);
  });

  it('never trusts a half folder a crash left under the cache name', async () => {
    await h.store.putFolder(src, 'runs/r');
    const digest = sha(await h.store.get('runs/r/manifest.json'));
    await mkdir(join(h.cacheDir, digest), { recursive: true });
    await writeFile(join(h.cacheDir, digest, 'model.onnx'), 'wei'); // cut short, no manifest
    const dir = await h.store.localFolder('runs/r');
    expect(dir).toBe(join(h.cacheDir, digest));
    expect(await readFile(join(dir, 'model.onnx'), 'utf8')).toBe('weights');
    expect(await readFile(join(dir, 'tokenizer/vocab.txt'), 'utf8')).toBe('a\nb\n');
  });

  it('publishes nothing when the download fails its manifest', async () => {
    await h.store.putFolder(src, 'runs/r');
    await h.store.put('runs/r/model.onnx', 'weightS');
    await expect(h.store.localFolder('runs/r')).rejects.toBeInstanceOf(ArtifactIntegrityError);
    expect(await readdir(h.cacheDir)).toEqual([]);
  });

  it('downloads a folder without a manifest fresh each time', async () => {
    await h.store.put('datasets/d/train.jsonl', 'v1');
    const first = await h.store.localFolder('datasets/d');
    await h.store.put('datasets/d/train.jsonl', 'v2');
    const second = await h.store.localFolder('datasets/d');
    expect(second).not.toBe(first);
    expect(await readFile(join(second, 'train.jsonl'), 'utf8')).toBe('v2');
  });

  it('refuses a client for another container than its root names', () => {
    expect(() => new BlobArtifactStore({ rootUri: `azblob://${DEV_ACCOUNT}/elsewhere/mlc`, containerClient: h.container, cacheDir: h.cacheDir })).toThrow(
      ArtifactLocationError,
    );
  });
});

describe('uploadWriteOnce', () => {
  let container: ContainerClient;
  beforeEach(async () => {
    container = service.getContainerClient(containerName());
    await container.create();
  });
  afterEach(async () => {
    await container.deleteIfExists();
  });
  const pkg = [
    { name: 'model.onnx', bytes: Buffer.from('weights v1') },
    { name: 'score/score.py', bytes: Buffer.from('def run(): ...\n') },
  ];

  it('uploads each blob with its sha256, then skips the same bytes on a rerun', async () => {
    const progress: WriteOnceProgress[] = [];
    expect(await uploadWriteOnce(container, 'packages/m/1', pkg, (p) => progress.push(p))).toEqual({
      uploaded: ['packages/m/1/model.onnx', 'packages/m/1/score/score.py'],
      skipped: [],
    });
    expect(progress.map((p) => [p.outcome, p.done, p.total])).toEqual([
      ['uploaded', 1, 2],
      ['uploaded', 2, 2],
    ]);
    for (const file of pkg) {
      const blob = container.getBlobClient(`packages/m/1/${file.name}`);
      expect((await blob.getProperties()).metadata).toMatchObject({ sha256: sha(file.bytes) });
      expect((await blob.downloadToBuffer()).equals(file.bytes)).toBe(true);
    }
    expect(await uploadWriteOnce(container, 'packages/m/1', pkg)).toEqual({
      uploaded: [],
      skipped: ['packages/m/1/model.onnx', 'packages/m/1/score/score.py'],
    });
  });

  it('finishes a crashed upload: blobs already there are skipped, the rest uploaded', async () => {
    await uploadWriteOnce(container, 'packages/m/1', pkg.slice(0, 1));
    expect(await uploadWriteOnce(container, 'packages/m/1', pkg)).toEqual({ uploaded: ['packages/m/1/score/score.py'], skipped: ['packages/m/1/model.onnx'] });
  });

  it('refuses to change a blob that holds other bytes', async () => {
    await uploadWriteOnce(container, 'packages/m/1', pkg);
    const changed = [{ name: 'model.onnx', bytes: Buffer.from('weights v2') }];
    const error = await uploadWriteOnce(container, 'packages/m/1', changed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteOnceConflictError);
    expect(error).toMatchObject({ nonRetryable: true, existingSha256: sha('weights v1'), newSha256: sha('weights v2') });
    expect((error as Error).message).toContain('packages/m/1/model.onnx');
    expect((error as Error).message).toContain('new version');
    expect((await container.getBlobClient('packages/m/1/model.onnx').downloadToBuffer()).toString()).toBe('weights v1');

    // Metadata that claims our hash is not enough: the bytes are hashed.
    await container.getBlockBlobClient('packages/m/2/model.onnx').uploadData(Buffer.from('other'), { metadata: { sha256: sha('weights v2') } });
    await expect(uploadWriteOnce(container, 'packages/m/2', changed)).rejects.toMatchObject({ name: 'WriteOnceConflictError', existingSha256: sha('other') });
  });
});

describe('openArtifactStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a folder path or a file:// URL as a filesystem store', async () => {
    const byPath = await openArtifactStore(join(dir, 'a'), { cacheDir: join(dir, 'cache') });
    expect(byPath).toBeInstanceOf(FsArtifactStore);
    expect(byPath.rootUri).toBe(pathToFileURL(join(dir, 'a')).href);
    const byUrl = await openArtifactStore(pathToFileURL(join(dir, 'b')).href, { cacheDir: join(dir, 'cache') });
    expect(byUrl.rootUri).toBe(pathToFileURL(join(dir, 'b')).href);
    await byUrl.put('x.txt', 'x');
    expect(await readFile(join(dir, 'b/x.txt'), 'utf8')).toBe('x');
  });

  it('opens azblob:// on the given endpoint and creates the container', async () => {
    const name = containerName();
    const store = await openArtifactStore(`azblob://${DEV_ACCOUNT}/${name}/mlc/`, {
      cacheDir: join(dir, 'cache'),
      blob: { endpoint: azurite.blobEndpoint, connectionString: azurite.connectionString },
    });
    try {
      expect(store).toBeInstanceOf(BlobArtifactStore);
      expect(store.rootUri).toBe(`azblob://${DEV_ACCOUNT}/${name}/mlc`);
      expect(await service.getContainerClient(name).exists()).toBe(true);
      await store.put('runs/r/a.txt', 'abc');
      expect((await service.getContainerClient(name).getBlobClient('mlc/runs/r/a.txt').downloadToBuffer()).toString()).toBe('abc');
    } finally {
      await service.getContainerClient(name).deleteIfExists();
    }
  });

  it('refuses locations it cannot serve, naming both accepted forms', async () => {
    const conn = { connectionString: azurite.connectionString };
    const attempts: [string, OpenArtifactStoreOptions['blob']?][] = [
      ['s3://bucket/mlc'],
      [''],
      ['azblob://Not_An_Account/c'],
      [`azblob://${DEV_ACCOUNT}/box/../x`, conn],
      [`azblob://${DEV_ACCOUNT}/box`], // no way to authenticate
      ['azblob://otheraccount/box', conn],
      [`azblob://${DEV_ACCOUNT}/box`, { ...conn, endpoint: 'http://127.0.0.1:1/devstoreaccount1' }],
    ];
    for (const [location, blob] of attempts) {
      const error = await openArtifactStore(location, { cacheDir: dir, blob }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArtifactLocationError);
      expect((error as Error).message).toMatch(/file:\/\/.*azblob:\/\//);
    }
  });
});
