// The FS store against the shared contract, then what only a filesystem has: symlinks that
// could lead out of the root, rename as the commit, temp files a crash leaves behind.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import type * as fsPromises from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsArtifactStore } from './fs-store';
import { ArtifactIntegrityError, ArtifactKeyError } from './errors';
import { REFUSED_KEYS, describeArtifactStoreContract } from './store-contract';

// Lets one test make rename() fail, as an NFS hiccup would, after the temp file is written.
const failRename = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>();
  return {
    ...actual,
    rename: (from: string, to: string) =>
      failRename.on ? Promise.reject(Object.assign(new Error('EIO: simulated'), { code: 'EIO' })) : actual.rename(from, to),
  };
});

const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

let base: string;
let root: string;
let store: FsArtifactStore;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mlc-artifacts-'));
  root = join(base, 'root');
  store = new FsArtifactStore(root);
});
afterEach(async () => {
  failRename.on = false;
  await rm(base, { recursive: true, force: true });
});

describeArtifactStoreContract('FsArtifactStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlc-artifacts-contract-'));
  return {
    store: new FsArtifactStore(join(dir, 'root')),
    remove: (key) => unlink(join(dir, 'root', key)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FsArtifactStore', () => {
  it('names its root by file:// URL and keeps the keys it is given', async () => {
    expect(store.rootUri).toBe(`file://${root}`);
    await store.put('models/m/runs/r1/model.onnx', 'abc');
    expect(await readFile(join(root, 'models/m/runs/r1/model.onnx'), 'utf8')).toBe('abc');
    expect(store.keyOf(`file://${root}/models/m/runs/r1`)).toBe('models/m/runs/r1');
    // A root whose name starts like ours is another root.
    expect(() => store.keyOf(`file://${root}-old/models/m`)).toThrow(/MLC_ARTIFACTS_ROOT/);
  });

  it.each(REFUSED_KEYS)('writes nothing outside the root for the key %j', async (key) => {
    await expect(store.put(key, 'x')).rejects.toBeInstanceOf(ArtifactKeyError);
    expect(existsSync(join(base, 'x'))).toBe(false);
    expect(existsSync(join(base, 'b'))).toBe(false);
  });

  it('refuses symlinks that lead outside the root, for reads and writes', async () => {
    const outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'top secret');
    await mkdir(root, { recursive: true });
    await symlink(outside, join(root, 'linkdir'));
    await symlink(join(outside, 'secret'), join(root, 'linkfile'));

    await expect(store.get('linkdir/secret')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.get('linkfile')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.sha256('linkfile')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.exists('linkfile')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.localFolder('linkdir')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.put('linkdir/planted', 'x')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.put('linkdir/new/deep/planted', 'x')).rejects.toBeInstanceOf(ArtifactKeyError);
    expect(await readdir(outside)).toEqual(['secret']);
    await expect(store.list('linkdir')).rejects.toBeInstanceOf(ArtifactKeyError);
    expect(await store.list('')).toEqual([]);

    // A link that stays inside the root is an ordinary file.
    await store.put('real/a.txt', 'abc');
    await symlink(join(root, 'real/a.txt'), join(root, 'alias'));
    expect(await store.sha256('alias')).toBe(SHA256_ABC);
    expect(await store.list('')).toEqual(['alias', 'real/a.txt']);
  });

  it('works when the root itself is a symlink (e.g. to an NFS mount)', async () => {
    const real = join(base, 'mnt');
    await mkdir(real);
    await symlink(real, join(base, 'linked-root'));
    const linked = new FsArtifactStore(join(base, 'linked-root'));
    await linked.put('a/b.txt', 'abc');
    expect(await linked.sha256('a/b.txt')).toBe(SHA256_ABC);
    expect(await readFile(join(real, 'a/b.txt'), 'utf8')).toBe('abc');
  });

  it('never shows a partial file: readers see the old or the new content whole', async () => {
    const oldBytes = Buffer.alloc(1 << 20, 'a');
    const newBytes = Buffer.alloc(16 << 20, 'b');
    await store.put('big.bin', oldBytes);
    let writing = true;
    const write = store.put('big.bin', newBytes).finally(() => (writing = false));
    const seen = new Set<string>();
    while (writing) {
      const got = await store.get('big.bin');
      const whole = got.equals(oldBytes) || got.equals(newBytes);
      seen.add(whole ? String(got.length) : `partial:${got.length}`);
    }
    await write;
    expect([...seen].filter((s) => s.startsWith('partial'))).toEqual([]);
    expect((await store.get('big.bin')).equals(newBytes)).toBe(true);
    expect(await readdir(root)).toEqual(['big.bin']);
  });

  it('hides a crashed write and leaves nothing behind a failed one', async () => {
    await store.put('runs/r/model.onnx', 'good');
    // What a crash mid-write leaves: a temp file beside the target.
    await writeFile(join(root, 'runs/r/.model.onnx.tmp-999-0a1b2c'), 'half');
    expect(await store.list('runs/r')).toEqual(['runs/r/model.onnx']);

    failRename.on = true;
    await expect(store.put('runs/r/model.onnx', 'new')).rejects.toThrow('EIO');
    await expect(store.put('runs/r/other.bin', 'new')).rejects.toThrow('EIO');
    failRename.on = false;
    expect((await readdir(join(root, 'runs/r'))).sort()).toEqual(['.model.onnx.tmp-999-0a1b2c', 'model.onnx']);
    expect((await store.get('runs/r/model.onnx')).toString()).toBe('good');

    // A target that is a folder cannot be replaced: the real rename fails, the temp goes.
    await store.put('runs/r/dir/inner.txt', 'x');
    await expect(store.put('runs/r/dir', 'x')).rejects.toThrow();
    expect((await readdir(join(root, 'runs/r'))).filter((n) => n.includes('.tmp-') && !n.includes('999'))).toEqual([]);
  });
});

describe('putFolder and localFolder on a filesystem', () => {
  it('hands out the folder itself, by its real path inside the root', async () => {
    const real = join(base, 'mnt');
    await mkdir(real);
    await symlink(real, join(base, 'linked-root'));
    const linked = new FsArtifactStore(join(base, 'linked-root'));
    await linked.put('runs/r/model.onnx', 'weights');
    await linked.writeManifest('runs/r');
    expect(await linked.localFolder('runs/r')).toBe(join(real, 'runs/r'));
    await writeFile(join(real, 'runs/r/model.onnx'), 'weightS');
    await expect(linked.localFolder('runs/r')).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('refuses a folder that is a symlink out of the root', async () => {
    const outside = join(base, 'outside');
    await mkdir(join(outside, 'r'), { recursive: true });
    await writeFile(join(outside, 'r/model.onnx'), 'foreign');
    await mkdir(join(root, 'runs'), { recursive: true });
    await symlink(join(outside, 'r'), join(root, 'runs/r'));
    await expect(store.localFolder('runs/r')).rejects.toBeInstanceOf(ArtifactKeyError);
  });

  it('follows symlinked files of the source folder, and removes stale links without touching their targets', async () => {
    // A tool cache (Hugging Face snapshots) is a folder of links to blobs.
    const blobs = join(base, 'blobs');
    const snapshot = join(base, 'snapshot');
    await mkdir(blobs);
    await mkdir(snapshot);
    await writeFile(join(blobs, 'b1'), 'vocab');
    await symlink(join(blobs, 'b1'), join(snapshot, 'vocab.txt'));

    await store.put('shared/keep.txt', 'keep me');
    await mkdir(join(root, 'runs/r'), { recursive: true });
    await symlink(join(root, 'shared/keep.txt'), join(root, 'runs/r/stale-link'));

    const manifest = await store.putFolder(snapshot, 'runs/r');
    expect(manifest.files.map((f) => f.key)).toEqual(['runs/r/vocab.txt']);
    expect(await readFile(join(root, 'runs/r/vocab.txt'), 'utf8')).toBe('vocab');
    expect(existsSync(join(root, 'runs/r/stale-link'))).toBe(false);
    expect(await readFile(join(root, 'shared/keep.txt'), 'utf8')).toBe('keep me');
  });

  it('leaves no manifest when a write fails midway, so the folder never reads as complete', async () => {
    const src = join(base, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'b.txt'), 'b');
    await store.putFolder(src, 'runs/r');
    await writeFile(join(src, 'a.txt'), 'a2');

    failRename.on = true;
    await expect(store.putFolder(src, 'runs/r')).rejects.toThrow('EIO');
    failRename.on = false;
    expect(existsSync(join(root, 'runs/r/manifest.json'))).toBe(false);
    await expect(store.verifyManifest('runs/r')).rejects.toThrow(/no runs\/r\/manifest\.json/);
  });
});
