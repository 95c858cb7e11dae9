// Packaging refuses an incomplete run folder by name, before anything reaches Azure. A full
// package of a real model is built and served in test/integration/azureml-score.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileMissingError } from '../scoring/errors';
import { buildDeployablePackage } from './package';

describe('buildDeployablePackage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-azureml-package-'));
    await writeFile(join(dir, 'labels.json'), '["neg","pos"]');
    await writeFile(join(dir, 'tokenizer.json'), '{}');
    await writeFile(join(dir, 'tokenizer_config.json'), '{}');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names the missing model file and what produces it', async () => {
    const err = await buildDeployablePackage(dir, { model: 'm', version: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileMissingError);
    expect(err).toMatchObject({ file: 'model.onnx', modelDir: dir });
    expect((err as Error).message).toMatch(/model\.onnx not found in .*slurm\/train\.py/s);
  });

  it('ships the ONNX file deploy.json chose, so int8 asks for model.int8.onnx', async () => {
    const int8 = await mkdtemp(join(tmpdir(), 'mlc-azureml-package-int8-'));
    try {
      for (const f of ['labels.json', 'tokenizer.json', 'tokenizer_config.json']) await writeFile(join(int8, f), f === 'labels.json' ? '["neg","pos"]' : '{}');
      await writeFile(join(int8, 'model.onnx'), 'fp32 bytes');
      await writeFile(join(int8, 'deploy.json'), '{"precision": "int8", "file": "model.int8.onnx"}');
      const err = await buildDeployablePackage(int8, { model: 'm', version: 1 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ModelFileMissingError', file: 'model.int8.onnx' });
    } finally {
      await rm(int8, { recursive: true, force: true });
    }
  });

  it('refuses a version that is not a positive integer', async () => {
    await expect(buildDeployablePackage(dir, { model: 'm', version: 0 })).rejects.toThrow(/version must be a positive integer/);
  });
});
