// Error paths that need no trained model; the real model is in test/integration/scoring.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFileMissingError, ModelFormatError, ScoringError } from './errors';
import { intraOpThreadsFor, loadScorer, readLabels } from './onnx-scorer';

describe('loadScorer on a broken folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-scorer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the missing file and the command that writes it', async () => {
    const error = await loadScorer(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileMissingError);
    expect(error).toBeInstanceOf(ScoringError);
    expect(error).toMatchObject({ file: 'labels.json', modelDir: dir });
    expect((error as Error).message).toMatch(/^labels\.json not found in .*Run slurm\/train\.py .*it writes model\.onnx/);
  });

  it('refuses labels.json that is not a list of unique labels', async () => {
    for (const [content, problem] of [
      ['{"a": 1}', /JSON array/],
      ['["pos"]', /at least two/],
      ['["a", "a"]', /unique/],
      ['["a", ', /not valid JSON/],
    ] as const) {
      await writeFile(join(dir, 'labels.json'), content);
      await expect(readLabels(dir)).rejects.toThrow(ModelFormatError);
      await expect(readLabels(dir)).rejects.toThrow(problem);
    }
  });

  it('asks for the tokenizer next, then refuses a bad batch size', async () => {
    await writeFile(join(dir, 'labels.json'), '["neg", "pos"]');
    await expect(loadScorer(dir)).rejects.toMatchObject({ name: 'ModelFileMissingError', file: 'tokenizer.json' });
    await expect(loadScorer(dir, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });
});

describe('intra-op threads', () => {
  it('one for a small model, onnxruntime’s default for a large one, the caller’s when given', () => {
    expect(intraOpThreadsFor(2_172_611)).toBe(1); // the demo model's model.onnx
    expect(intraOpThreadsFor(20_562_621)).toBeUndefined(); // hidden 256, 4 layers
    expect(intraOpThreadsFor(2_172_611, 2)).toBe(2);
    expect(intraOpThreadsFor(20_562_621, 1)).toBe(1);
  });
});
