// The preprocess activity on data paths a spec must not reach: the worker's own SSH key (the
// one that logs in to the cluster), /etc/shadow, escapes and symlinks out of a data root, the
// secrets folder. Each is refused before anything is read, and nothing reaches the store.
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, type ActivityDeps } from '../../activities';
import type { PreparedDataset, PreprocessDataInput } from '../../activities/preprocess';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import type { Registry } from '../../adapters/db/port';
import { parseSpec } from '../../domain/spec';
import { loadConfig, repoRoot, type MlcConfig } from '../../temporal.config';

const env = new MockActivityEnvironment();
let base: string;
let store: FsArtifactStore;
const recorded: string[] = [];
const registry = {
  ensureModel: async (name: string) => {
    recorded.push(name);
  },
  recordDatasetVersion: async ({ hash }: { hash: string }) => {
    recorded.push(hash);
  },
} as unknown as Registry;

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'mlc-data-roots-')));
  await mkdir(path.join(base, 'root'));
  await mkdir(path.join(base, 'dotdata/secrets'), { recursive: true });
  const rows = Array.from({ length: 60 }, (_, i) => JSON.stringify({ text: `ข้อความที่ ${i}`, label: i % 2 ? 'pos' : 'neg' }));
  await writeFile(path.join(base, 'root/train.jsonl'), rows.join('\n') + '\n');
  await writeFile(path.join(base, 'outside.jsonl'), rows.join('\n') + '\n');
  await writeFile(path.join(base, 'dotdata/secrets/endpoint.key'), 'k'.repeat(32) + '\n');
  await symlink(path.join(base, 'outside.jsonl'), path.join(base, 'root/link.jsonl'));
  store = new FsArtifactStore(path.join(base, 'artifacts'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function preprocess(config: MlcConfig, specDir: string, dataPath: string, format?: 'csv') {
  const unused = () => {
    throw new Error('not used by preprocess');
  };
  const deps: ActivityDeps = { config, registry, store, executor: unused, loadScorer: unused, temporal: null as never, endpointUrl: '', azureMl: unused };
  const spec = parseSpec({
    name: 'roots-test',
    labels: ['neg', 'pos'],
    data: { path: dataPath, ...(format && { format }) },
    roles: { auditors: ['a'], deployers: ['b'] },
  });
  const activities = createControlActivities(deps);
  const run = (input: PreprocessDataInput) => activities.preprocessData(input);
  return env.run<[PreprocessDataInput], PreparedDataset, typeof run>(run, { spec, specDir, generation: 1, extraDataKeys: [] });
}

const storeFiles = async () => (await readdir(store.root, { recursive: true }).catch(() => [])).filter((f) => path.extname(f));

describe('preprocess reads data only from the data roots', () => {
  // The worker's configuration as it runs here (keys under .data/ssh), with a temporary root added.
  const worker = () => loadConfig({ USER: process.env.USER, MLC_DATA_ROOTS: `${repoRoot}/data:${repoRoot}/examples:${base}/root` });

  it.each([
    ["the worker's SSH key, relative to the examples folder", () => [worker(), path.join(repoRoot, 'examples'), '../.data/ssh/id_ed25519', 'csv']],
    ['/etc/shadow', () => [worker(), path.join(base, 'root'), '/etc/shadow', 'csv']],
    ['a ../ escape out of a root', () => [worker(), path.join(base, 'root'), '../outside.jsonl']],
    ['a symlink inside a root pointing outside', () => [worker(), path.join(base, 'root'), 'link.jsonl']],
    [
      'the SSH key even with the whole repository as a root',
      () => [loadConfig({ USER: process.env.USER, MLC_DATA_ROOTS: repoRoot }), path.join(repoRoot, 'examples'), '../.data/ssh/id_ed25519', 'csv'],
    ],
    [
      'a file in the secrets folder, inside a root',
      () => [
        loadConfig({ USER: process.env.USER, MLC_DATA_DIR: path.join(base, 'dotdata'), MLC_DATA_ROOTS: base }),
        base,
        'dotdata/secrets/endpoint.key',
        'csv',
      ],
    ],
  ] as [string, () => [MlcConfig, string, string, 'csv'?]][])('refuses %s, reading and storing nothing', async (_, args) => {
    const [config, specDir, dataPath, format] = args();
    const failure = await preprocess(config, specDir, dataPath, format).then(
      () => null,
      (e: unknown) => e as Error & { type?: string; nonRetryable?: boolean },
    );
    expect(failure).toMatchObject({ type: 'DataPathRefusedError', nonRetryable: true });
    expect(failure!.message).toContain(`Data may only come from the data roots: ${config.dataRoots.join(', ')}.`);
    expect(failure!.message).toMatch(/Move the data under one of them, or add a folder holding it to dataRoots/);
    expect(failure!.message).not.toMatch(/PRIVATE KEY|root:|kkkk|ข้อความ/);
    expect(await storeFiles()).toEqual([]);
    expect(recorded).toEqual([]);
  });

  it('accepts a path inside a root', async () => {
    const { datasetHash } = await preprocess(worker(), path.join(base, 'root'), 'train.jsonl');
    expect(recorded).toEqual(['roots-test', datasetHash]);
    expect(await storeFiles()).toContain(path.join('datasets', 'roots-test', datasetHash, 'train.jsonl'));
  });
});
