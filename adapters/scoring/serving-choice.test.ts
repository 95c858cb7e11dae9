import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import { readServingChoice, servingFile } from './serving-choice';

describe('the serving choice of a run folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-serving-choice-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is fp32 (model.onnx) for a folder from before int8', async () => {
    expect(await readServingChoice(dir)).toEqual({ precision: 'fp32', file: 'model.onnx', recorded: false });
  });

  it('reads deploy.json, and an explicit precision wins over it', async () => {
    await writeFile(join(dir, 'deploy.json'), '{"precision": "int8", "file": "model.int8.onnx"}');
    expect(await readServingChoice(dir)).toEqual({ precision: 'int8', file: 'model.int8.onnx', recorded: true });
    expect(await servingFile(dir)).toMatchObject({ precision: 'int8', file: 'model.int8.onnx' });
    expect(await servingFile(dir, 'fp32')).toMatchObject({ precision: 'fp32', file: 'model.onnx' });
  });

  it('refuses a deploy.json naming another file or precision', async () => {
    for (const body of ['{"precision": "int4", "file": "model.int4.onnx"}', '{"precision": "int8", "file": "../x.onnx"}', '[', 'null']) {
      await writeFile(join(dir, 'deploy.json'), body);
      await expect(readServingChoice(dir)).rejects.toBeInstanceOf(ModelFormatError);
    }
  });
});
