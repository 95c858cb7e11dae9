import proto from '@temporalio/proto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../temporal.config';
import { bounded, checkArtifacts, DOCTOR_ARTIFACT_KEY, searchAttributeProblems } from './doctor-checks';

const { INDEXED_VALUE_TYPE_KEYWORD: keyword, INDEXED_VALUE_TYPE_INT: int } = proto.temporal.api.enums.v1.IndexedValueType;

describe('searchAttributeProblems', () => {
  const wanted = ['MlcStage', 'MlcModel', 'MlcVersion'];

  it('finds nothing wrong when each is a keyword, whatever else is registered', () => {
    expect(searchAttributeProblems({ MlcStage: keyword, MlcModel: keyword, MlcVersion: keyword, Other: int }, wanted)).toEqual([]);
  });

  it('names the missing ones and the ones of another type', () => {
    expect(searchAttributeProblems({ MlcVersion: int }, wanted)).toEqual(['MlcStage, MlcModel not registered', 'MlcVersion is int, not keyword']);
  });
});

describe('bounded', () => {
  it('gives the work’s result when it comes in time', async () => {
    expect(await bounded(Promise.resolve('done'), 1000, () => 'hung')).toBe('done');
  });

  it('gives the hung answer, with the seconds waited, when the work never ends', async () => {
    expect(await bounded(new Promise<string>(() => {}), 50, (s) => `hung after ${s} s`)).toBe('hung after 0.1 s');
  });

  it('passes the work’s failure on', async () => {
    await expect(bounded(Promise.reject(new Error('refused')), 1000, () => 'hung')).rejects.toThrow('refused');
  });
});

describe('checkArtifacts', () => {
  it('writes, reads back and verifies a file through the store, and warns when its folder has less room than a run needs', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlc-doctor-artifacts-'));
    try {
      const root = path.join(dir, 'artifacts');
      const config = loadConfig({ MLC_CONFIG: '', MLC_DATA_DIR: dir, MLC_ARTIFACTS_ROOT: root });
      const verified = `wrote, read back and verified ${DOCTOR_ARTIFACT_KEY}`;
      expect(await checkArtifacts(config, 0)).toEqual({
        check: 'artifacts',
        status: 'pass',
        detail: expect.stringMatching(new RegExp(`${verified}; \\d+ GiB free$`)),
      });
      expect(JSON.parse(await readFile(path.join(root, DOCTOR_ARTIFACT_KEY), 'utf8'))).toMatchObject({ pid: process.pid });
      // The real free space of this folder, below a bound no disk reaches.
      expect(await checkArtifacts(config, Number.MAX_SAFE_INTEGER)).toEqual({
        check: 'artifacts',
        status: 'warn',
        detail: expect.stringMatching(new RegExp(`${verified}; only \\d+\\.\\d GiB free there$`)),
        fix: 'free space or move the store: a training run writes checkpoints and model files',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
