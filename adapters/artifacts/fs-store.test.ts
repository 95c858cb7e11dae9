import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsArtifactStore } from './fs-store';
import { ArtifactIntegrityError, ArtifactKeyError, ArtifactNotFoundError } from './errors';

// Lets one test make rename() fail, as an NFS hiccup would, after the temp file is written.
const failRename = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
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

describe('FsArtifactStore', () => {
  it('round-trips bytes and text, with sizes and sha256', async () => {
    expect(store.rootUri).toBe(`file://${root}`);
    const entry = await store.put('models/m/runs/r1/notes.txt', 'abc');
    expect(entry).toEqual({ key: 'models/m/runs/r1/notes.txt', size: 3, sha256: SHA256_ABC });
    expect((await store.get('models/m/runs/r1/notes.txt')).toString()).toBe('abc');
    expect(await store.sha256('models/m/runs/r1/notes.txt')).toBe(SHA256_ABC);

    const bytes = new Uint8Array([0, 1, 2, 255]);
    await store.put('models/m/runs/r1/model.onnx', bytes);
    expect([...(await store.get('models/m/runs/r1/model.onnx'))]).toEqual([...bytes]);
    await store.put('models/m/runs/r1/notes.txt', 'replaced');
    expect((await store.get('models/m/runs/r1/notes.txt')).toString()).toBe('replaced');

    expect(await store.exists('models/m/runs/r1/model.onnx')).toBe(true);
    expect(await store.exists('models/m/runs/r1/nope')).toBe(false);
    expect(await store.exists('models/m/runs/r1/model.onnx/deeper')).toBe(false);
    expect(store.localPath('models/m/runs/r1/model.onnx')).toBe(join(root, 'models/m/runs/r1/model.onnx'));
    await expect(store.get('models/nope')).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('lists the files under a folder, not its namesakes', async () => {
    await store.put('runs/a/x.txt', '1');
    await store.put('runs/a/sub/y.txt', '2');
    await store.put('runs/ab/z.txt', '3');
    expect(await store.list('runs/a')).toEqual(['runs/a/sub/y.txt', 'runs/a/x.txt']);
    expect(await store.list('runs/a/')).toEqual(['runs/a/sub/y.txt', 'runs/a/x.txt']);
    expect(await store.list('')).toEqual(['runs/a/sub/y.txt', 'runs/a/x.txt', 'runs/ab/z.txt']);
    expect(await store.list('runs/none')).toEqual([]);
  });

  it.each([
    ['../x', "'..' segment"],
    ['a/../../b', "'..' segment"],
    ['/etc/passwd', 'absolute'],
    ['', 'empty'],
    ['a\0b', 'NUL'],
    ['a//b', 'empty segment'],
    ['a/./b', "'.' segment"],
    ['a/b/', 'empty segment'],
    ['a\\..\\b', 'backslash'],
    ['runs/.model.onnx.tmp-12-abcdef', 'in-progress'],
  ])('refuses the key %j (%s)', async (key, why) => {
    for (const attempt of [() => store.put(key, 'x'), () => store.get(key), () => store.exists(key)]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArtifactKeyError);
      expect((error as ArtifactKeyError).key).toBe(key);
      expect((error as Error).message).toContain(why);
    }
    expect(() => store.localPath(key)).toThrow(ArtifactKeyError);
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
    expect(() => store.localPath('linkdir/secret')).toThrow(ArtifactKeyError);
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

describe('manifests', () => {
  beforeEach(async () => {
    await store.put('runs/r1/model.onnx', 'weights');
    await store.put('runs/r1/tokenizer/vocab.txt', 'a\nb\n');
    await store.put('runs/r2/model.onnx', 'not in r1');
  });

  it('lists every file under the prefix except itself, and verifies', async () => {
    const manifest = await store.writeManifest('runs/r1');
    expect(manifest.prefix).toBe('runs/r1');
    expect(manifest.files).toEqual([
      { key: 'runs/r1/model.onnx', size: 7, sha256: await store.sha256('runs/r1/model.onnx') },
      { key: 'runs/r1/tokenizer/vocab.txt', size: 4, sha256: await store.sha256('runs/r1/tokenizer/vocab.txt') },
    ]);
    expect(JSON.parse((await store.get('runs/r1/manifest.json')).toString())).toEqual(manifest);
    expect(await store.verifyManifest('runs/r1')).toEqual(manifest);
    // Re-writing is idempotent apart from the time: the old manifest is not hashed into the new.
    expect((await store.writeManifest('runs/r1')).files).toEqual(manifest.files);
  });

  it('detects a changed byte, a missing file and an extra file', async () => {
    await store.writeManifest('runs/r1');
    const path = store.localPath('runs/r1/model.onnx');
    await writeFile(path, 'weightS'); // same size, one byte differs
    await rm(store.localPath('runs/r1/tokenizer/vocab.txt'));
    await writeFile(join(root, 'runs/r1/planted.py'), 'evil');

    const error = await store.verifyManifest('runs/r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactIntegrityError);
    expect(error).toMatchObject({
      prefix: 'runs/r1',
      changed: ['runs/r1/model.onnx'],
      missing: ['runs/r1/tokenizer/vocab.txt'],
      extra: ['runs/r1/planted.py'],
    });
    expect((error as Error).message).toContain('runs/r1/model.onnx');
  });

  it('reports a missing or foreign manifest as an integrity failure', async () => {
    await expect(store.verifyManifest('runs/r1')).rejects.toThrow(/no runs\/r1\/manifest\.json/);
    await store.writeManifest('runs/r2');
    const foreign = (await store.get('runs/r2/manifest.json')).toString();
    await store.put('runs/r1/manifest.json', foreign);
    await expect(store.verifyManifest('runs/r1')).rejects.toBeInstanceOf(ArtifactIntegrityError);
    await store.put('runs/r1/manifest.json', '{ not json');
    await expect(store.verifyManifest('runs/r1')).rejects.toThrow(/unreadable/);
  });
});
