import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { ModelFileMissingError } from '../adapters/scoring/errors';
import { DatasetNotFoundError } from '../adapters/datasets/read';
import { UnknownClusterError, userError, withPermanentErrors } from './errors';

const failing = (err: unknown) => withPermanentErrors({ act: async () => { throw err; } }).act();

describe('withPermanentErrors', () => {
  it('makes errors a retry cannot fix non-retryable, keeping their name and message', async () => {
    for (const err of [new UnknownClusterError('gpu', ['local']), new DatasetNotFoundError('/x.jsonl'), new ModelFileMissingError('/run', 'model.onnx', 'slurm/train.py')]) {
      const failure = await failing(err).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: err.name, nonRetryable: true, message: err.message });
    }
  });

  it('leaves other errors (a network blip) to Temporal\'s retries, and our own failures as they are', async () => {
    const blip = new Error('ECONNRESET');
    expect(await failing(blip).catch((e: unknown) => e)).toBe(blip);
    const own = userError('ArtifactHashMismatch', 'refusing');
    expect(await failing(own).catch((e: unknown) => e)).toBe(own);
  });

  it('passes results through', async () => {
    expect(await withPermanentErrors({ ok: async (x: number) => x + 1 }).ok(1)).toBe(2);
  });
});
