// What every ArtifactStore must do, written once and run against each implementation (the FS
// store in the unit tests, Blob on Azurite in the integration tests), so callers can switch
// stores without noticing. Tampering goes through put (a rewrite that skips the manifest) and
// the harness's remove, which every backend can do.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactIntegrityError, ArtifactKeyError, ArtifactNotFoundError, ArtifactOutsideRootError } from './errors';
import type { ArtifactStore } from './port';

export interface StoreHarness {
  store: ArtifactStore;
  cleanup: () => Promise<void>;
  /** Deletes one key behind the store's back (as a careless admin or a failed disk would). */
  remove: (key: string) => Promise<void>;
}

const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

export const REFUSED_KEYS: [string, string][] = [
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
];

/** Every file under `dir` as relative path → sha256. */
async function hashesIn(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[relative(dir, path)] = sha(await readFile(path));
    }
  }
  return out;
}

export function describeArtifactStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`${name}: the ArtifactStore contract`, () => {
    let h: StoreHarness;
    let store: ArtifactStore;
    let local: string;
    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      local = await mkdtemp(join(tmpdir(), 'mlc-contract-'));
    });
    afterEach(async () => {
      await h.cleanup();
      await rm(local, { recursive: true, force: true });
    });

    /** A local folder a tool might have written. */
    async function localFolderOf(files: Record<string, string>): Promise<string> {
      const dir = await mkdtemp(join(local, 'src-'));
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, rel)), { recursive: true });
        await writeFile(join(dir, rel), text);
      }
      return dir;
    }

    it('round-trips bytes and text, with sizes and sha256', async () => {
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
      await expect(store.get('models/nope')).rejects.toBeInstanceOf(ArtifactNotFoundError);
      await expect(store.sha256('models/nope')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    });

    it('names artifacts by URI and takes back only its own', () => {
      const uri = store.uriOf('models/m/runs/r1');
      expect(uri).toBe(`${store.rootUri}/models/m/runs/r1`);
      expect(store.keyOf(uri)).toBe('models/m/runs/r1');

      const foreign = [`${store.rootUri}x/models/m`, 'file:///somewhere/else/models/m', 'azblob://other/box/models/m', store.rootUri];
      for (const other of foreign) {
        const error = (() => {
          try {
            return store.keyOf(other);
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(ArtifactOutsideRootError);
        expect(error).toMatchObject({ uri: other, rootUri: store.rootUri, nonRetryable: true });
        expect((error as Error).message).toContain('MLC_ARTIFACTS_ROOT');
      }
      expect(() => store.keyOf(`${store.rootUri}/../escape`)).toThrow(ArtifactKeyError);
      expect(() => store.uriOf('../escape')).toThrow(ArtifactKeyError);
    });

    it('lists the files under a folder, sorted, not its namesakes', async () => {
      await store.put('runs/a/x.txt', '1');
      await store.put('runs/a/sub/y.txt', '2');
      await store.put('runs/ab/z.txt', '3');
      await store.put('runs/a.txt', '4');
      expect(await store.list('runs/a')).toEqual(['runs/a/sub/y.txt', 'runs/a/x.txt']);
      expect(await store.list('runs/a/')).toEqual(['runs/a/sub/y.txt', 'runs/a/x.txt']);
      expect(await store.list('')).toEqual(['runs/a.txt', 'runs/a/sub/y.txt', 'runs/a/x.txt', 'runs/ab/z.txt']);
      expect(await store.list('runs/none')).toEqual([]);
      await expect(store.list('../runs')).rejects.toBeInstanceOf(ArtifactKeyError);
    });

    it.each(REFUSED_KEYS)('refuses the key %j (%s)', async (key, why) => {
      for (const attempt of [() => store.put(key, 'x'), () => store.get(key), () => store.exists(key), () => store.sha256(key)]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArtifactKeyError);
        expect(error).toMatchObject({ key, nonRetryable: true });
        expect((error as Error).message).toContain(why);
      }
      expect(await store.list('')).toEqual([]);
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
          { key: 'runs/r1/model.onnx', size: 7, sha256: sha('weights') },
          { key: 'runs/r1/tokenizer/vocab.txt', size: 4, sha256: sha('a\nb\n') },
        ]);
        const stored = (await store.get('runs/r1/manifest.json')).toString();
        expect(stored).toBe(JSON.stringify(manifest, null, 2) + '\n');
        expect(await store.verifyManifest('runs/r1')).toEqual(manifest);
        // Re-writing is idempotent apart from the time: the old manifest is not hashed into the new.
        expect((await store.writeManifest('runs/r1')).files).toEqual(manifest.files);
      });

      it('detects a changed byte, a missing file and an extra file', async () => {
        await store.writeManifest('runs/r1');
        await store.put('runs/r1/model.onnx', 'weightS'); // same size, one byte differs
        await h.remove('runs/r1/tokenizer/vocab.txt');
        await store.put('runs/r1/planted.py', 'evil');

        const error = await store.verifyManifest('runs/r1').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArtifactIntegrityError);
        expect(error).toMatchObject({
          prefix: 'runs/r1',
          changed: ['runs/r1/model.onnx'],
          missing: ['runs/r1/tokenizer/vocab.txt'],
          extra: ['runs/r1/planted.py'],
          nonRetryable: true,
        });
        expect((error as Error).message).toContain('runs/r1/model.onnx');
      });

      it('reports a missing, foreign or unreadable manifest as an integrity failure', async () => {
        await expect(store.verifyManifest('runs/r1')).rejects.toThrow(/no runs\/r1\/manifest\.json/);
        await store.writeManifest('runs/r2');
        await store.put('runs/r1/manifest.json', await store.get('runs/r2/manifest.json'));
        await expect(store.verifyManifest('runs/r1')).rejects.toThrow(/describes another folder/);
        await store.put('runs/r1/manifest.json', '{ not json');
        await expect(store.verifyManifest('runs/r1')).rejects.toThrow(/unreadable/);
      });
    });

    describe('putFolder', () => {
      it('replaces a stale, partial folder and writes the manifest last', async () => {
        // What a crashed earlier attempt (or an older version) left under the prefix.
        await store.put('runs/r/model.onnx', 'old weights');
        await store.put('runs/r/leftover/part.bin', 'half');
        await store.put('runs/r/manifest.json', 'stale');
        await store.put('runs/rr/keep.txt', 'a namesake folder');
        const src = await localFolderOf({ 'model.onnx': 'new weights', 'tokenizer/vocab.txt': 'a\nb\n', 'manifest.json': 'from elsewhere' });

        const manifest = await store.putFolder(src, 'runs/r');
        expect(manifest).toMatchObject({
          prefix: 'runs/r',
          files: [
            { key: 'runs/r/model.onnx', size: 11, sha256: sha('new weights') },
            { key: 'runs/r/tokenizer/vocab.txt', size: 4, sha256: sha('a\nb\n') },
          ],
        });
        expect(await store.list('runs/r')).toEqual(['runs/r/manifest.json', 'runs/r/model.onnx', 'runs/r/tokenizer/vocab.txt']);
        expect(await store.verifyManifest('runs/r')).toEqual(manifest);
        expect((await store.get('runs/r/model.onnx')).toString()).toBe('new weights');
        expect((await store.get('runs/rr/keep.txt')).toString()).toBe('a namesake folder');
        // Rerunning the same folder (an activity retried) gives the same files.
        expect((await store.putFolder(src, 'runs/r')).files).toEqual(manifest.files);
      });

      it('refuses the root and bad names before touching anything', async () => {
        await store.put('runs/r/model.onnx', 'kept');
        const src = await localFolderOf({ 'a.txt': 'x' });
        await expect(store.putFolder(src, '')).rejects.toBeInstanceOf(ArtifactKeyError);
        await expect(store.putFolder(src, '../r')).rejects.toBeInstanceOf(ArtifactKeyError);
        const bad = await localFolderOf({ 'ok.txt': 'x', '.w.tmp-1-ab': 'reserved name' });
        await expect(store.putFolder(bad, 'runs/r')).rejects.toBeInstanceOf(ArtifactKeyError);
        expect(await store.list('')).toEqual(['runs/r/model.onnx']);
      });
    });

    describe('localFolder', () => {
      it('gives real files that hash as the manifest says', async () => {
        const src = await localFolderOf({ 'model.onnx': 'weights', 'tokenizer/vocab.txt': 'a\nb\n' });
        const manifest = await store.putFolder(src, 'runs/r');
        const dir = await store.localFolder('runs/r');
        expect(await hashesIn(dir)).toEqual({
          'model.onnx': sha('weights'),
          'tokenizer/vocab.txt': sha('a\nb\n'),
          'manifest.json': sha(await store.get('runs/r/manifest.json')),
        });
        expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
        expect(await store.localFolder('runs/r/')).toBe(dir);
      });

      it('refuses a folder whose files no longer match its manifest', async () => {
        const src = await localFolderOf({ 'model.onnx': 'weights', 'vocab.txt': 'v' });
        await store.putFolder(src, 'runs/changed');
        await store.put('runs/changed/model.onnx', 'weightS');
        await expect(store.localFolder('runs/changed')).rejects.toMatchObject({ name: 'ArtifactIntegrityError', changed: ['runs/changed/model.onnx'] });

        await store.putFolder(src, 'runs/extra');
        await store.put('runs/extra/planted.py', 'evil');
        await expect(store.localFolder('runs/extra')).rejects.toMatchObject({ name: 'ArtifactIntegrityError', extra: ['runs/extra/planted.py'] });

        await store.putFolder(src, 'runs/missing');
        await h.remove('runs/missing/vocab.txt');
        await expect(store.localFolder('runs/missing')).rejects.toMatchObject({ name: 'ArtifactIntegrityError', missing: ['runs/missing/vocab.txt'] });
      });

      it('serves a folder without a manifest as it is, and refuses an empty one', async () => {
        await store.put('datasets/d/train.jsonl', '{"text":"x"}\n');
        const dir = await store.localFolder('datasets/d');
        expect(await hashesIn(dir)).toEqual({ 'train.jsonl': sha('{"text":"x"}\n') });
        await expect(store.localFolder('datasets/none')).rejects.toBeInstanceOf(ArtifactNotFoundError);
        await expect(store.localFolder('../d')).rejects.toBeInstanceOf(ArtifactKeyError);
      });
    });
  });
}
