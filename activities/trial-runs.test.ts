// A search's trials as runs: made once however often they are seen, with the trial's values over
// the parent's params, and ended with their parent when the search never gets registered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../adapters/artifacts/fs-store';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry } from '../adapters/db/port';
import { seedRun } from '../test/fakes/registry-fixtures';
import { endOpenTrialRuns, ensureTrialRun, trialRunKey } from './trial-runs';

let registry: Registry;
let store: FsArtifactStore;
let root: string;
const runDir = 'models/m/runs/search-1';

beforeAll(async () => {
  registry = await openMemoryRegistry();
  root = mkdtempSync(path.join(tmpdir(), 'mlc-trial-runs-'));
  store = new FsArtifactStore(root);
  await seedRun(registry, { runKey: 'search-1', params: { epochs: 3, learningRate: 0.001 }, version: false });
  await seedRun(registry, { runKey: 'search-10', version: false }); // another search of the same model
  await store.put(`${runDir}/trials.json`, JSON.stringify([{ learningRate: 0.002 }, { learningRate: 0.0001 }, { learningRate: 0.0005 }]));
});

afterAll(async () => {
  await registry?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('trial runs', () => {
  it("are made once, with the trial's values over the parent's params, in the trial's folder", async () => {
    expect(await ensureTrialRun(registry, store, 'search-1', runDir, 1)).toBe(true);
    await registry.updateRun(trialRunKey('search-1', 1), { state: 'running', metrics: { seen: 1 } });
    expect(await ensureTrialRun(registry, store, 'search-1', runDir, 1)).toBe(true); // seen again: kept as it was
    expect(await registry.getRun('search-1-t1')).toMatchObject({
      trial: 1,
      state: 'running',
      params: { epochs: 3, learningRate: 0.0001 },
      metrics: { seen: 1 },
      artifactUri: store.uriOf(`${runDir}/trial-1`),
    });
    expect(await ensureTrialRun(registry, store, 'no-such-run', runDir, 0)).toBe(false);
    expect(await registry.getRun('no-such-run-t0')).toBeNull();
  });

  it('still open when the search fails or is cancelled: ended as their parent, finished ones and other searches untouched', async () => {
    await ensureTrialRun(registry, store, 'search-1', runDir, 0);
    await ensureTrialRun(registry, store, 'search-1', runDir, 2);
    await registry.updateRun('search-1-t2', { state: 'succeeded', finished: true });
    await ensureTrialRun(registry, store, 'search-10', runDir, 0);

    await endOpenTrialRuns(registry, 'search-1', { state: 'cancelled', error: 'cancelled with the lifecycle' });
    const states = await Promise.all(['search-1-t0', 'search-1-t1', 'search-1-t2', 'search-10-t0'].map((k) => registry.getRun(k)));
    expect(states.map((r) => [r?.runKey, r?.state, r?.error])).toEqual([
      ['search-1-t0', 'cancelled', 'cancelled with the lifecycle'],
      ['search-1-t1', 'cancelled', 'cancelled with the lifecycle'],
      ['search-1-t2', 'succeeded', null],
      ['search-10-t0', 'submitted', null],
    ]);
    const finished = (await registry.listRuns('m')).filter((r) => r.runKey.startsWith('search-1-t')).map((r) => r.finishedAt);
    expect(finished.every((at) => at !== null)).toBe(true);

    // A resubmitted job reopens a trial, as the job watcher does when it runs again: live, no finish
    // time; a later failure ends it again.
    const t0FinishedAt = async () => (await registry.listRuns('m')).find((r) => r.runKey === 'search-1-t0')!.finishedAt;
    await registry.updateRun('search-1-t0', { state: 'running', error: null, finished: false });
    expect(await t0FinishedAt()).toBeNull();
    await endOpenTrialRuns(registry, 'search-1', { state: 'failed', error: 'NODE_FAIL: node died' });
    expect(await registry.getRun('search-1-t0')).toMatchObject({ state: 'failed', error: 'NODE_FAIL: node died' });
    expect(await t0FinishedAt()).not.toBeNull();
    expect((await registry.getRun('search-1-t2'))?.state).toBe('succeeded');
  });
});
